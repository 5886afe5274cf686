import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  isPretextTaskV1,
  ntXent,
  Rng,
  type PretextAttackSettings,
  type PretextContext,
  type PretextHeads,
} from '@moco-robust/core';
import { checkPretextContract } from '@moco-robust/pretext-testkit';
import { leakedTensors, tinyPretextEncoder, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import roclFactory from './index';
import { instanceAccuracy, multiViewNtXent } from './multi-view-nt-xent';
import { ROCL_ATTACK, roclTask, type TwoViews } from './rocl-task';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A cheap seeded two-view augmentation: per-image brightness scaling. */
const brightness: TwoViews = (images, rng) => {
  const view = () =>
    tf.tidy(() => {
      const n = images.shape[0];
      return tf.clipByValue(
        tf.mul(
          images,
          tf.tensor4d(
            Array.from({ length: n }, () => rng.uniform(0.7, 1.3)),
            [n, 1, 1, 1],
          ),
        ),
        0,
        1,
      ) as tf.Tensor4D;
    });
  return [view(), view()];
};

/** −log softmax of row `i` of `[views…]`'s cosine similarities / T at column `j`, computed in plain JS. */
function negativeLogProbability(rows: number[][], i: number, j: number, temperature: number): number {
  const unit = rows.map((r) => {
    const norm = Math.hypot(...r);
    return r.map((v) => v / norm);
  });
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
  const others = unit.map((r, k) => (k === i ? -Infinity : dot(unit[i], r) / temperature));
  const max = Math.max(...others);
  const logSum = max + Math.log(others.reduce((s, v) => s + Math.exp(v - max), 0));
  return logSum - others[j];
}

describe('RoCL losses and accuracy', () => {
  it('multi-view NT-Xent with two views is SimCLR NT-Xent', () => {
    const z1 = tf.randomNormal([6, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const z2 = tf.randomNormal([6, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
    const a = multiViewNtXent([z1, z2], 0.5).dataSync();
    const b = ntXent(z1, z2, 0.5).dataSync();
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 5));
    tf.dispose([z1, z2]);
  });

  it(
    "with three views, each anchor's loss is the sum over " + 'its two other views of −log p over all 3N − 1 rows',
    () => {
      const views = [1, 2, 3].map((s) => tf.randomNormal([3, 4], 0, 1, 'float32', s) as tf.Tensor2D);
      const rows = views.flatMap((v) => v.arraySync());
      const loss = multiViewNtXent(views, 0.5).arraySync();
      expect(loss).toHaveLength(9);
      for (let a = 0; a < 9; a++) {
        const positives = [0, 1, 2].map((v) => v * 3 + (a % 3)).filter((j) => j !== a);
        expect(loss[a]).toBeCloseTo(
          positives.reduce((s, j) => s + negativeLogProbability(rows, a, j, 0.5), 0),
          4,
        );
      }
      tf.dispose(views);
      expect(() => multiViewNtXent([tf.zeros([2, 3]) as tf.Tensor2D], 0.5)).toThrow(/views/);
    },
  );

  it('instance accuracy is the fraction of anchors whose nearest other row is their other view', () => {
    const z1 = tf.tensor2d([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const z2 = tf.tensor2d([
      [0.9, 0.1, 0],
      [0, 1, 0.2],
      [0.1, 0.95, 0],
    ]); // instance 2's second view looks like instance 1
    // anchors: z1[0]→z2[0] ✓, z1[1]→z2[2] (0.995 > 0.98) ✗, z1[2]→z2[1] ✗, z2[0]→z1[0] ✓, z2[1]→z1[1]
    // ✓, z2[2]→z1[1] ✗
    expect(instanceAccuracy(z1, z2).dataSync()[0]).toBeCloseTo(3 / 6, 6);
    expect(instanceAccuracy(z1, z1).dataSync()[0]).toBe(1);
    tf.dispose([z1, z2]);
  });
});

describe('RoCL task on a tiny encoder (cpu)', () => {
  const encoder = tinyPretextEncoder(2);
  const task = roclTask({ augment: brightness, dim: 8, hiddenDim: 16 });
  let heads: PretextHeads;
  const context = (training = false): PretextContext => ({ encoder, heads, training, rng: Rng.fromSeed(0), step: 0 });
  const images = tf.randomUniform([8, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const settings = (rng = 1): PretextAttackSettings => ({
    epsilon: 4 / 255,
    stepSize: 1 / 255,
    steps: 2,
    randomStart: false,
    training: false,
    rng: Rng.fromSeed(rng),
  });

  beforeAll(() => {
    heads = task.createHeads(encoder, Rng.fromSeed(5));
  });

  it(
    'is a PretextTaskV1 named rocl with its own attack and ' +
      'training loss, also as the default export with no options',
    () => {
      expect(isPretextTaskV1(task)).toBe(true);
      expect(task.name).toBe('rocl');
      expect(typeof task.craft).toBe('function');
      expect(typeof task.trainingLoss).toBe('function');
      const plain = roclFactory({ seed: 3 } as never); // the CLI passes { seed }
      expect(isPretextTaskV1(plain)).toBe(true);
      const projection = plain.createHeads(encoder, Rng.fromSeed(1)).projection;
      // 2-layer MLP to 128
      expect(projection.getWeights().map((w) => w.shape)).toEqual([[16, 2048], [2048], [2048, 128], [128]]);
      (projection as unknown as { dispose(): void }).dispose();
      // its craft keeps to the ε-ball and [0, 1], its trainingLoss is a finite scalar, a step leaks nothing
      const report = checkPretextContract(roclTask({ augment: brightness, dim: 8, hiddenDim: 16 }), {
        encoder,
        epsilon: 8 / 255,
      });
      expect(report).toMatchObject({ name: 'rocl', optional: { craft: true, trainingLoss: true } });
    },
  );

  it(
    "makeBatch gives t(x) as inputs and t'(x) as the target, " + 'seeded; the default views are SimCLR augmentations',
    () => {
      const batch = task.makeBatch(images, Rng.fromSeed(4), context());
      const [v1, v2] = brightness(images, Rng.fromSeed(4).fork('views'));
      expect(Array.from(batch.inputs.dataSync())).toEqual(Array.from(v1.dataSync()));
      expect(Array.from(batch.targets.otherView.dataSync())).toEqual(Array.from(v2.dataSync()));
      const plain = roclTask().makeBatch(images, Rng.fromSeed(4), context());
      expect(plain.inputs.shape).toEqual(images.shape);
      expect(tf.max(tf.abs(tf.sub(plain.inputs, plain.targets.otherView))).dataSync()[0]).toBeGreaterThan(0.05);
      expect(tf.min(plain.inputs).dataSync()[0]).toBeGreaterThanOrEqual(0);
      expect(tf.max(plain.inputs).dataSync()[0]).toBeLessThanOrEqual(1);
      tf.dispose([
        v1,
        v2,
        batch.inputs,
        plain.inputs,
        ...Object.values(batch.targets),
        ...Object.values(plain.targets),
      ]);
    },
  );

  it(
    "crafts with RoCL's instance-wise attack: inside the ε-ball " +
      'and [0, 1], raising the pretext loss, no tensor leaked',
    async () => {
      const batch = task.makeBatch(images, Rng.fromSeed(6), context());
      let adversarial: tf.Tensor4D | undefined;
      const leaked = await leakedTensors(() => {
        adversarial = task.craft!(context(), batch.inputs, batch.targets, settings());
      });
      expect(leaked).toBe(1); // the adversarial batch
      const distance = tf.max(tf.abs(tf.sub(adversarial!, batch.inputs))).dataSync()[0];
      expect(distance).toBeLessThanOrEqual(ROCL_ATTACK.epsilon + 1e-6); // RoCL's ε, not the engine's 4/255
      // 7 steps of 0.007 from a random start go past the engine's 4/255
      expect(distance).toBeGreaterThan(4 / 255 + 1e-6);
      expect(tf.min(adversarial!).dataSync()[0]).toBeGreaterThanOrEqual(0);
      const [clean, robust] = [batch.inputs, adversarial!].map((x) =>
        tf.tidy(() => tf.mean(task.loss(context(), x, batch.targets)).dataSync()[0]),
      );
      expect(robust).toBeGreaterThan(clean);
      const engine = roclTask({ augment: brightness, dim: 8, hiddenDim: 16, attack: 'engine' });
      const followed = engine.craft!(context(), batch.inputs, batch.targets, settings());
      // 2 steps of 1/255, no random start
      expect(tf.max(tf.abs(tf.sub(followed, batch.inputs))).dataSync()[0]).toBeLessThanOrEqual(2 / 255 + 1e-6);
      tf.dispose([adversarial!, followed, batch.inputs, ...Object.values(batch.targets)]);
    },
  );

  it(
    'trains on the 3-view NT-Xent ' +
      'plus λ·NT-Xent(t(x)^adv, ' +
      "t'(x)); without an attack, on SimCLR's 2-view NT-Xent",
    () => {
      const batch = task.makeBatch(images, Rng.fromSeed(7), context());
      const adversarial = task.craft!(context(), batch.inputs, batch.targets, settings());
      const c = context(true);
      tf.tidy(() => {
        const z = task.embed(
          c,
          tf.concat([batch.inputs, batch.targets.otherView as tf.Tensor4D, adversarial]) as tf.Tensor4D,
          true,
        );
        const [z1, z2, za] = [0, 1, 2].map((v) => tf.slice(z, [v * 8, 0], [8, -1]) as tf.Tensor2D);
        const expected = tf
          .add(tf.mean(multiViewNtXent([z1, z2, za], 0.5)), tf.mul(1 / 256, tf.mean(ntXent(za, z2, 0.5))))
          .dataSync()[0];
        expect(task.trainingLoss!(c, batch.inputs, adversarial, batch.targets).dataSync()[0]).toBeCloseTo(expected, 5);
        const original = roclTask({ augment: brightness, regularizeTo: 'original', lambda: 0.5 }).trainingLoss!(
          c,
          batch.inputs,
          adversarial,
          batch.targets,
        ).dataSync()[0];
        expect(original).toBeCloseTo(
          tf.add(tf.mean(multiViewNtXent([z1, z2, za], 0.5)), tf.mul(0.5, tf.mean(ntXent(za, z1, 0.5)))).dataSync()[0],
          5,
        );
        const w = task.embed(c, tf.concat([batch.inputs, batch.targets.otherView as tf.Tensor4D]) as tf.Tensor4D, true);
        const simclr = tf
          .mean(ntXent(tf.slice(w, [0, 0], [8, -1]) as tf.Tensor2D, tf.slice(w, [8, 0], [8, -1]) as tf.Tensor2D, 0.5))
          .dataSync()[0];
        expect(task.trainingLoss!(c, batch.inputs, undefined, batch.targets).dataSync()[0]).toBeCloseTo(simclr, 5);
      });
      tf.dispose([adversarial, batch.inputs, ...Object.values(batch.targets)]);
    },
  );

  it('round-trips its state and checks its options with named errors', () => {
    const state = JSON.parse(JSON.stringify(task.state()));
    expect(state).toMatchObject({
      task: 'rocl',
      temperature: 0.5,
      lambda: 1 / 256,
      regularizeTo: 'other',
      attack: 'rocl',
    });
    expect(() => roclTask().loadState(state)).not.toThrow();
    expect(() => roclTask().loadState({ task: 'selfie' })).toThrow(/rocl/i);
    expect(() => roclTask({ temperature: 0 })).toThrow(/temperature/);
    expect(() => roclTask({ lambda: -1 })).toThrow(/lambda/);
    expect(() => roclTask({ regularizeTo: 'x' as never })).toThrow(/regularizeTo/);
    expect(() => roclTask({ attack: 'x' as never })).toThrow(/attack/);
    expect(() => roclTask({ augment: 3 as never })).toThrow(/augment/);
  });
});
