import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { crossEntropy, infoNce, InvalidArgumentError, ntXent } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from './fgsm';
import { instancePgd } from './instance-pgd';
import { mocoFgsm, mocoLoss, mocoPgd } from './moco-pgd';
import { pgd, pgdWithLoss } from './pgd';
import { labelLoss, supervisedPgd } from './supervised-pgd';
import { randomBatch, randomUnitRows, tinyConvNet } from './test-helpers/tiny-conv-net';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const epsilon = 8 / 255;
const maxDeviation = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const meanOf = (t: tf.Tensor) => tf.tidy(() => tf.mean(t).dataSync()[0]);

describe('attack invariants', () => {
  const model = tinyConvNet();
  const embedder = tinyConvNet(16, 2);
  const { x, y } = randomBatch(6);
  const keys = randomUnitRows(6, 16, 11);
  const queue = randomUnitRows(32, 16, 12);
  const objective = { query: embedder, keys, queue, temperature: 0.2 };
  const attacks: Record<string, (e: number) => tf.Tensor4D> = {
    fgsm: (e) => fgsm(model, x, y, { epsilon: e }),
    pgd: (e) => supervisedPgd(model, x, y, { epsilon: e, stepSize: e / 4, steps: 5, rng: 1 }),
    'pgd-l2': (e) => supervisedPgd(model, x, y, { epsilon: e * 10, stepSize: e * 3, steps: 5, norm: 'l2', rng: 1 }),
    'pgd-targeted': (e) =>
      supervisedPgd(model, x, y, { epsilon: e, stepSize: e / 4, steps: 5, targeted: true, rng: 1 }),
    'moco-pgd': (e) => mocoPgd(objective, x, { epsilon: e, stepSize: e / 4, steps: 5, rng: 2 }),
    'moco-fgsm': (e) => mocoFgsm(objective, x, { epsilon: e }),
    'instance-pgd': (e) => instancePgd({ embed: embedder, positives: keys }, x, { epsilon: e, steps: 3, rng: 3 }),
  };

  for (const [name, attack] of Object.entries(attacks)) {
    it(`${name}: stays in the ε-ball and [0, 1], keeps shape and dtype, ε = 0 returns the input, no leaks`, () => {
      const before = tf.memory().numTensors;
      const adversarial = attack(epsilon);
      expect(adversarial.shape).toEqual(x.shape);
      expect(adversarial.dtype).toBe('float32');
      if (name === 'pgd-l2') {
        const norms = tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.sub(adversarial, x)), [1, 2, 3])).dataSync());
        for (const n of norms) expect(n).toBeLessThanOrEqual(epsilon * 10 + 1e-5);
      } else {
        expect(maxDeviation(adversarial, x)).toBeLessThanOrEqual(epsilon + 1e-6);
      }
      expect(tf.tidy(() => tf.min(adversarial).dataSync()[0])).toBeGreaterThanOrEqual(0);
      expect(tf.tidy(() => tf.max(adversarial).dataSync()[0])).toBeLessThanOrEqual(1);
      const unchanged = attack(0);
      expect(maxDeviation(unchanged, x)).toBe(0);
      tf.dispose([adversarial, unchanged]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('every attack raises its own objective above the clean value', () => {
    const ce = labelLoss(model, y);
    const moco = mocoLoss(objective);
    const instance = (input: tf.Tensor4D) =>
      tf.tidy(() => {
        const perAnchor = ntXent(embedder.predict(input) as tf.Tensor2D, keys, 0.5);
        return tf.add(tf.slice(perAnchor, [0], [6]), tf.slice(perAnchor, [6], [6])) as tf.Tensor1D;
      });
    const objectives: Record<string, (input: tf.Tensor4D) => tf.Tensor1D> = {
      fgsm: ce,
      pgd: ce,
      'pgd-l2': ce,
      'moco-pgd': moco,
      'moco-fgsm': moco,
      'instance-pgd': instance,
    };
    for (const [name, objectiveOf] of Object.entries(objectives)) {
      const adversarial = attacks[name](epsilon);
      expect(meanOf(objectiveOf(adversarial)), name).toBeGreaterThan(meanOf(objectiveOf(x)));
    }
  });

  it('raises the attacked loss above the clean loss (supervised and label-free)', () => {
    const ce = labelLoss(model, y);
    const adversarial = supervisedPgd(model, x, y, { steps: 10, rng: 4 });
    expect(meanOf(ce(adversarial))).toBeGreaterThan(meanOf(ce(x)));
    const moco = mocoLoss(objective);
    const mocoAdversarial = mocoPgd(objective, x, { steps: 10, rng: 5 });
    expect(meanOf(moco(mocoAdversarial))).toBeGreaterThan(meanOf(moco(x)));
    const targeted = supervisedPgd(model, x, y, { steps: 10, targeted: true, rng: 4 });
    expect(meanOf(ce(targeted))).toBeLessThan(meanOf(ce(x)));
  });

  it("PGD's loss is at least FGSM's on the same model", () => {
    const ce = labelLoss(model, y);
    const fgsmLoss = meanOf(ce(fgsm(model, x, y, { epsilon })));
    const pgdLoss = meanOf(ce(supervisedPgd(model, x, y, { epsilon, stepSize: epsilon / 4, steps: 20, rng: 6 })));
    expect(pgdLoss).toBeGreaterThanOrEqual(fgsmLoss - 1e-6);
    const moco = mocoLoss(objective);
    expect(meanOf(moco(mocoPgd(objective, x, { stepSize: epsilon / 4, steps: 20, rng: 7 })))).toBeGreaterThanOrEqual(
      meanOf(moco(mocoFgsm(objective, x))) - 1e-6,
    );
  });

  it('restarts never lower the per-example loss', () => {
    const ce = labelLoss(model, y);
    const one = pgdWithLoss(ce, x, { steps: 3, restarts: 1, rng: 9 });
    const three = pgdWithLoss(ce, x, { steps: 3, restarts: 3, rng: 9 });
    const a = one.loss.dataSync();
    const b = three.loss.dataSync();
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeGreaterThanOrEqual(a[i] - 1e-6);
    // the reported loss is the loss at the returned point
    const recomputed = ce(three.adversarial).dataSync();
    for (let i = 0; i < a.length; i++) expect(recomputed[i]).toBeCloseTo(b[i], 5);
  });

  it('early stop freezes examples that are already misclassified', () => {
    const adversarial = supervisedPgd(model, x, y, { steps: 10, earlyStop: true, rng: 10 });
    const clean = tf.argMax(model.predict(x) as tf.Tensor, 1).dataSync();
    const labels = y.dataSync();
    const deviation = tf.max(tf.abs(tf.sub(adversarial, x)), [1, 2, 3]).dataSync();
    for (let i = 0; i < labels.length; i++) {
      // an example wrong from the start never moves beyond its random start (≤ ε), a correct one may
      expect(deviation[i]).toBeLessThanOrEqual(epsilon + 1e-6);
      if (clean[i] !== labels[i]) expect(deviation[i]).toBeGreaterThan(0);
    }
  });

  it('reproduces with the same seed', () => {
    const a = supervisedPgd(model, x, y, { steps: 3, rng: 42 });
    const b = supervisedPgd(model, x, y, { steps: 3, rng: 42 });
    expect(maxDeviation(a, b)).toBe(0);
  });
});

describe('FGSM on a linear model equals the closed form', () => {
  it('x + ε·sign(Wᵀ(softmax(Wx + b) − onehot(y))), clipped', () => {
    const d = 2 * 2 * 3,
      classes = 3;
    const W = tf.randomNormal([d, classes], 0, 1, 'float32', 21);
    const b = tf.randomNormal([classes], 0, 1, 'float32', 22);
    const linear = (x: tf.Tensor4D) => tf.add(tf.matMul(tf.reshape(x, [-1, d]), W), b) as tf.Tensor2D;
    const x = tf.randomUniform([4, 2, 2, 3], 0, 1, 'float32', 23) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 1], 'int32');
    const adversarial = fgsm(linear, x, y, { epsilon: 0.1 }).dataSync();
    const w = W.arraySync() as number[][],
      bias = b.dataSync(),
      xs = x.dataSync(),
      ys = y.dataSync();
    for (let n = 0; n < 4; n++) {
      const logits = Array.from(
        { length: classes },
        (_, c) => bias[c] + Array.from({ length: d }, (_, i) => xs[n * d + i] * w[i][c]).reduce((s, v) => s + v, 0),
      );
      const max = Math.max(...logits);
      const exps = logits.map((l) => Math.exp(l - max));
      const total = exps.reduce((s, v) => s + v, 0);
      const residual = exps.map((e, c) => e / total - (c === ys[n] ? 1 : 0));
      for (let i = 0; i < d; i++) {
        const gradient = residual.reduce((s, r, c) => s + r * w[i][c], 0);
        const expected = Math.min(1, Math.max(0, xs[n * d + i] + 0.1 * Math.sign(gradient)));
        expect(adversarial[n * d + i]).toBeCloseTo(expected, 5);
      }
    }
  });
});

describe('validation', () => {
  const model = tinyConvNet();
  const { x, y } = randomBatch(2);
  it('names the argument, the expected range and what it got', () => {
    expect(() => supervisedPgd(model, x, y, { epsilon: 8 })).toThrow(
      /Invalid argument 'epsilon': expected a number in \[0, 1\].*got number 8.*Divide by 255/,
    );
    expect(() => supervisedPgd(model, x, y, { steps: 2.5 })).toThrow(
      /'steps': expected an integer ≥ 0, got number 2.5/,
    );
    expect(() => supervisedPgd(model, x, y, { norm: 'l1' as never })).toThrow(/'norm'/);
    expect(() => fgsm(model, tf.zeros([2, 8, 8]) as never, y)).toThrow(InvalidArgumentError);
    expect(() => fgsm(model, x, tf.zeros([2]) as tf.Tensor1D)).toThrow(/'y': expected an int32 tensor \[2\]/);
    expect(() => fgsm({} as never, x, y)).toThrow(/'model'/);
    expect(() => pgd((() => tf.zeros([5])) as never, x)).toThrow(/per-example losses \[2\]/);
    expect(() =>
      mocoPgd({ query: model, keys: tf.zeros([3, 10]) as tf.Tensor2D, queue: tf.zeros([8, 10]) as tf.Tensor2D }, x),
    ).toThrow(/'objective.keys': expected one key per image: \[2, d\]/);
  });
});

describe('label-free attacks take no labels', () => {
  it('mocoPgd and mocoFgsm signatures are (objective, x, options)', () => {
    expect(mocoPgd.length).toBeLessThanOrEqual(3);
    expect(mocoFgsm.length).toBeLessThanOrEqual(3);
    // the objective only holds the query model, keys, queue and temperature
    const loss = infoNce(tf.ones([1, 2]) as tf.Tensor2D, tf.ones([1, 2]) as tf.Tensor2D, tf.eye(2) as tf.Tensor2D, 0.2);
    expect(loss.shape).toEqual([1]);
    expect(crossEntropy).toBeTypeOf('function');
  });
});
