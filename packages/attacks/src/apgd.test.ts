import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InvalidArgumentError } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { apgd, apgdCheckpoints, apgdWithDetails } from './apgd';
import { apgdTargeted } from './apgd-targeted';
import { supervisedApgd } from './supervised-apgd';
import { randomBatch, tinyConvNet } from './test-helpers/tiny-conv-net';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const epsilon = 8 / 255;
const maxDeviation = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** Runs APGD on `loss` and records every checkpoint's iteration, step sizes and reductions. */
function observe(loss: (x: tf.Tensor4D) => tf.Tensor1D, x: tf.Tensor4D, steps = 100) {
  const seen: Array<{ iteration: number; stepSize: number[]; reduced: number[] }> = [];
  const result = apgdWithDetails(loss, x, {
    epsilon,
    steps,
    rng: 1,
    onCheckpoint: ({ iteration, stepSize, reduced }) =>
      seen.push({ iteration, stepSize: Array.from(stepSize.dataSync()), reduced: Array.from(reduced.dataSync()) }),
  });
  return { seen, result };
}

describe('APGD step-size schedule', () => {
  it('reviews the step size at the paper checkpoints (22%, then intervals shrinking by 3% to 6%)', () => {
    // p = 0, 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 of 100 iterations
    expect(apgdCheckpoints(100).map((i) => i + 1)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    expect(apgdCheckpoints(10).map((i) => i + 1)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('halves the step at every checkpoint when the loss stalls, never when it keeps rising', () => {
    const before = tf.memory().numTensors;
    const x = tf.fill([1, 4, 4, 1], 0.5) as tf.Tensor4D;
    // a loss that never changes (its gradient is zero): no progress, so every review halves η
    const stalled = observe((xAdv) => tf.mul(tf.sum(xAdv, [1, 2, 3]), 0) as tf.Tensor1D, x);
    expect(stalled.seen.map((c) => c.iteration)).toEqual(apgdCheckpoints(100));
    stalled.seen.forEach((c, j) => {
      expect(c.reduced).toEqual([1]);
      expect(c.stepSize[0]).toBeCloseTo((2 * epsilon) / 2 ** (j + 1), 7);
    });
    // a loss that rises at every evaluation: η stays 2ε
    let calls = 0;
    const rising = observe((xAdv) => tf.add(tf.mul(tf.sum(xAdv, [1, 2, 3]), 0), calls++) as tf.Tensor1D, x);
    for (const c of rising.seen) {
      expect(c.reduced).toEqual([0]);
      expect(c.stepSize[0]).toBeCloseTo(2 * epsilon, 7);
    }
    for (const { result } of [stalled, rising]) tf.dispose(Object.values(result));
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('converges to an interior maximum by halving and restarting from the best point', () => {
    const before = tf.memory().numTensors;
    const x = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D;
    const peak = tf.tidy(() =>
      tf.add(x, tf.mul(tf.randomUniform(x.shape, -0.6, 0.6, 'float32', 4), epsilon)),
    ) as tf.Tensor4D;
    const loss = (xAdv: tf.Tensor4D) => tf.neg(tf.sum(tf.square(tf.sub(xAdv, peak)), [1, 2, 3])) as tf.Tensor1D;
    const { seen, result } = observe(loss, x);
    // steps of 2ε overshoot a peak inside the ball: the loss oscillates and the first review halves η
    expect(seen[0].reduced).toEqual([1, 1]);
    expect(maxDeviation(result.adversarial, peak)).toBeLessThan(0.05 * epsilon);
    expect(maxDeviation(result.adversarial, x)).toBeLessThanOrEqual(epsilon + 1e-6);
    tf.dispose([x, peak, ...Object.values(result)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks its options, naming the argument', () => {
    const x = tf.fill([1, 4, 4, 1], 0.5) as tf.Tensor4D;
    const loss = (xAdv: tf.Tensor4D) => tf.sum(xAdv, [1, 2, 3]) as tf.Tensor1D;
    expect(() => apgd(loss, x, { steps: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => apgd(loss, x, { rho: 2 })).toThrow(/rho/);
    expect(() => apgd((xAdv) => tf.sum(xAdv) as tf.Tensor1D, x)).toThrow(/objective/);
    x.dispose();
  });
});

describe('APGD-CE, APGD-DLR and APGD-T on a tiny convnet', () => {
  const model = tinyConvNet();
  const { x } = randomBatch(6);
  // labels = the model's own predictions, so every example starts correctly classified
  const y = tf.tidy(() => tf.cast(tf.argMax(model.predict(x) as tf.Tensor2D, 1), 'int32')) as tf.Tensor1D;
  const attacks: Record<string, (e: number) => tf.Tensor4D> = {
    'apgd-ce': (e) => supervisedApgd(model, x, y, { epsilon: e, steps: 10, rng: 1 }),
    'apgd-dlr': (e) => supervisedApgd(model, x, y, { epsilon: e, steps: 10, loss: 'dlr', rng: 1 }),
    'apgd-t': (e) => apgdTargeted(model, x, y, { epsilon: e, steps: 5, targets: 3, rng: 1 }),
  };
  for (const [name, attack] of Object.entries(attacks)) {
    it(`${name}: stays in the ε-ball and [0, 1], keeps the shape, ε = 0 returns the input, no leaks`, () => {
      const before = tf.memory().numTensors;
      const adversarial = attack(epsilon);
      expect(adversarial.shape).toEqual(x.shape);
      expect(maxDeviation(adversarial, x)).toBeLessThanOrEqual(epsilon + 1e-6);
      expect(tf.tidy(() => tf.min(adversarial).dataSync()[0])).toBeGreaterThanOrEqual(0);
      expect(tf.tidy(() => tf.max(adversarial).dataSync()[0])).toBeLessThanOrEqual(1);
      const unchanged = attack(0);
      expect(maxDeviation(unchanged, x)).toBe(0);
      tf.dispose([adversarial, unchanged]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('APGD-CE raises the cross-entropy at least as much as its random start', () => {
    const ce = (input: tf.Tensor4D) =>
      tf.tidy(() => tf.mean(tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), model.predict(input) as tf.Tensor2D)));
    const adversarial = supervisedApgd(model, x, y, { epsilon, steps: 20, rng: 2 });
    expect(ce(adversarial).dataSync()[0]).toBeGreaterThan(ce(x).dataSync()[0]);
    adversarial.dispose();
  });
});
