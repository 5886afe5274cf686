import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InvalidArgumentError, Rng } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fabTargeted, linfHyperplaneBoxProjection } from './fab';
import { randomBatch, tinyConvNet } from './test-helpers/tiny-conv-net';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The smallest L∞ norm of d with w·(t + d) = b and t + d in [0, 1]ᴰ, by bisection on the norm (∞: none). */
function smallestStep(t: number[], w: number[], b: number): number {
  const reach = (lambda: number) => {
    let low = 0;
    let high = 0;
    t.forEach((ti, i) => {
      const ends = [w[i] * Math.max(-lambda, -ti), w[i] * Math.min(lambda, 1 - ti)];
      low += Math.min(...ends);
      high += Math.max(...ends);
    });
    const wt = t.reduce((sum, ti, i) => sum + ti * w[i], 0);
    return wt + low <= b && b <= wt + high;
  };
  if (!reach(1)) return Number.POSITIVE_INFINITY;
  let [low, high] = [0, 1];
  for (let i = 0; i < 60; i++) {
    const middle = (low + high) / 2;
    if (reach(middle)) high = middle;
    else low = middle;
  }
  return high;
}

describe('linfHyperplaneBoxProjection', () => {
  const project = (t: number[][], w: number[][], b: number[]) =>
    tf.tidy(() => linfHyperplaneBoxProjection(tf.tensor2d(t), tf.tensor2d(w), tf.tensor1d(b)).arraySync());

  it('gives the hand-computed steps, the box edge included', () => {
    const d = project(
      [
        [0.5, 0.5],
        [0.9, 0.5],
        [0.2, 0.7],
        [0.3, 0.3],
      ],
      [
        [1, 1],
        [1, 1],
        [2, 0],
        [1, -1],
      ],
      [1.5, 1.8, 0, 5],
    );
    const close = (row: number[], expected: number[]) => row.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    close(d[0], [0.25, 0.25]); // both coordinates move by the same 0.25
    close(d[1], [0.1, 0.3]); // the first stops at the box edge 1, the second does the rest
    close(d[2], [-0.2, 0]); // a zero weight never moves
    close(d[3], [0.7, -0.3]); // w·z ≤ 1 in the box: out of reach, so the corner closest to the hyperplane
  });

  it('reaches the hyperplane inside the box with the smallest L∞ step, as a brute-force search finds', () => {
    const random = Rng.fromSeed(7);
    for (let trial = 0; trial < 60; trial++) {
      const size = 1 + (trial % 6);
      const t = Array.from({ length: size }, () => random.float());
      const w = Array.from({ length: size }, () => (random.float() < 0.15 ? 0 : 2 * random.float() - 1));
      const target = Array.from({ length: size }, () => random.float()); // a point of the box on the hyperplane
      const b = target.reduce((sum, v, i) => sum + v * w[i], 0);
      const [d] = project([t], [w], [b]);
      const moved = t.map((v, i) => v + d[i]);
      for (const v of moved) {
        expect(v).toBeGreaterThanOrEqual(-1e-6);
        expect(v).toBeLessThanOrEqual(1 + 1e-6);
      }
      expect(moved.reduce((sum, v, i) => sum + v * w[i], 0)).toBeCloseTo(b, 5);
      expect(Math.max(...d.map(Math.abs))).toBeCloseTo(smallestStep(t, w, b), 5);
    }
  });
});

describe('fabTargeted', () => {
  // a linear model on 4×4×1 images: its decision boundaries are exactly the hyperplanes FAB linearises
  const classes = 4;
  const size = 16;
  const weights = tf.tidy(() => tf.randomNormal([size, classes], 0, 1, 'float32', 11) as tf.Tensor2D);
  const bias = tf.tensor1d([0.3, -0.2, 0.1, 0]);
  const linear = (input: tf.Tensor4D) =>
    tf.add(tf.matMul(tf.reshape(input, [input.shape[0], size]), weights), bias) as tf.Tensor2D;
  const x = tf.tidy(() => tf.randomUniform([12, 4, 4, 1], 0, 1, 'float32', 12) as tf.Tensor4D);
  const y = tf.tidy(() => tf.cast(tf.argMax(linear(x), 1), 'int32') as tf.Tensor1D);

  it('on a linear model finds, for every target, an adversarial example within 5 % of the closest one', () => {
    const images = x.arraySync().map((image) => image.flat(2));
    const w = weights.arraySync();
    const c = bias.arraySync();
    const labels = y.arraySync();
    // the exact L∞ distance to the nearest other class's region, inside the box
    const exact = images.map((t, i) =>
      Math.min(
        ...[0, 1, 2, 3]
          .filter((k) => k !== labels[i])
          .map((k) =>
            smallestStep(
              t,
              w.map((row) => row[k] - row[labels[i]]),
              c[labels[i]] - c[k],
            ),
          ),
      ),
    );
    const result = fabTargeted(linear, x, y, { epsilon: 1, steps: 20, targets: classes - 1 });
    result.distances.forEach((distance, i) => {
      expect(exact[i]).toBeLessThan(0.5); // every image has a reachable other class
      expect(distance).toBeGreaterThanOrEqual(exact[i] * (1 - 1e-4));
      expect(distance).toBeLessThanOrEqual(exact[i] * 1.05 + 1e-5);
    });
    tf.dispose(result.adversarial);
  });

  it('returns, and reports, the adversarial examples it found within ε; the rest stay clean', () => {
    const before = tf.memory().numTensors;
    const epsilon = 0.05;
    const result = fabTargeted(linear, x, y, { epsilon, steps: 20, targets: 2 });
    const broken = Array.from(result.success).filter(Boolean).length;
    expect(broken).toBeGreaterThan(0);
    expect(broken).toBeLessThan(12);
    const predicted = tf.tidy(() => tf.argMax(linear(result.adversarial), 1).arraySync() as number[]);
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(result.adversarial, x)), [1, 2, 3]).arraySync() as number[]);
    const labels = y.arraySync();
    result.success.forEach((flag, i) => {
      expect(flag).toBe(result.distances[i] <= Math.fround(epsilon) ? 1 : 0);
      if (flag) {
        expect(predicted[i]).not.toBe(labels[i]);
        expect(moved[i]).toBeCloseTo(result.distances[i], 6);
      } else expect(moved[i]).toBe(0);
    });
    expect(tf.tidy(() => tf.min(result.adversarial).dataSync()[0])).toBeGreaterThanOrEqual(0);
    expect(tf.tidy(() => tf.max(result.adversarial).dataSync()[0])).toBeLessThanOrEqual(1);
    result.adversarial.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('on a convnet stays in the ε-ball and [0, 1], leaves misclassified points alone, and repeats with a seed', () => {
    const model = tinyConvNet();
    const batch = randomBatch(8);
    // labels: the model's predictions, except the last image, given a wrong one
    const labels = tf.tidy(() => {
      const predicted = tf.cast(tf.argMax(model.predict(batch.x) as tf.Tensor2D, 1), 'int32');
      return tf.concat([tf.slice(predicted, [0], [7]), tf.mod(tf.add(tf.slice(predicted, [7], [1]), 1), 10)]);
    }) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const epsilon = 8 / 255;
    const options = { epsilon, steps: 10, targets: 3, restarts: 2, rng: 5 };
    const first = fabTargeted(model, batch.x, labels, options);
    const second = fabTargeted(model, batch.x, labels, options);
    expect(Array.from(first.success).filter(Boolean).length).toBeGreaterThan(0);
    expect(first.success[7]).toBe(0);
    expect(first.distances[7]).toBe(Number.POSITIVE_INFINITY);
    expect(Array.from(second.distances)).toEqual(Array.from(first.distances));
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(first.adversarial, second.adversarial))).dataSync()[0])).toBe(0);
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(first.adversarial, batch.x))).dataSync()[0]);
    expect(moved).toBeLessThanOrEqual(epsilon + 1e-6);
    expect(tf.tidy(() => tf.min(first.adversarial).dataSync()[0])).toBeGreaterThanOrEqual(0);
    expect(tf.tidy(() => tf.max(first.adversarial).dataSync()[0])).toBeLessThanOrEqual(1);
    const fooled = tf.tidy(
      () => tf.notEqual(tf.argMax(model.predict(first.adversarial) as tf.Tensor2D, 1), labels).dataSync() as Uint8Array,
    );
    first.success.forEach((flag, i) => {
      if (flag) expect(fooled[i]).toBe(1);
    });
    tf.dispose([first.adversarial, second.adversarial]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([batch.x, batch.y, labels]);
    model.dispose();
  });

  it('checks its options, naming the argument', () => {
    expect(() => fabTargeted(linear, x, y, { steps: 0 })).toThrow(InvalidArgumentError);
    expect(() => fabTargeted(linear, x, y, { alphaMax: 2 })).toThrow(/alphaMax/);
    expect(() => fabTargeted(linear, x, y, { epsilon: -1 })).toThrow(/epsilon/);
  });
});
