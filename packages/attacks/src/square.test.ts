import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InvalidArgumentError } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { square, squareFraction } from './square';
import { randomBatch, tinyConvNet } from './test-helpers/tiny-conv-net';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const epsilon = 8 / 255;

describe('Square attack', () => {
  const model = tinyConvNet();
  const { x } = randomBatch(8);
  // labels = the model's own predictions, so every example starts correctly classified
  const y = tf.tidy(() => tf.cast(tf.argMax(model.predict(x) as tf.Tensor2D, 1), 'int32')) as tf.Tensor1D;

  it('follows the p schedule: p_init halved after iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000', () => {
    expect([0, 10, 11, 50, 51, 200, 201, 4001, 6001, 8001].map((i) => squareFraction(i, 0.8))).toEqual([
      0.8,
      0.8,
      0.4,
      0.4,
      0.2,
      0.2,
      0.1,
      0.8 / 128,
      0.8 / 256,
      0.8 / 512,
    ]);
  });

  it('stays in the ε-ball and [0, 1], spends at most its query budget, and breaks only what it says', () => {
    const before = tf.memory().numTensors;
    let calls = 0;
    const counted = (input: tf.Tensor4D) => {
      calls++;
      return model.predict(input) as tf.Tensor2D;
    };
    const budget = 60;
    const { adversarial, queries, success } = square(counted, x, y, { epsilon, queries: budget, rng: 1 });
    // one batched query per iteration, the initial one included, plus the entry check's single-image call that
    // reads a function model's output width
    expect(calls).toBeLessThanOrEqual(budget + 1);
    for (const q of queries) expect(q).toBeLessThanOrEqual(budget);
    success.forEach((s, i) => {
      if (!s) expect(queries[i]).toBe(budget); // an unbroken example used its whole budget
    });
    const deviation = tf.tidy(() => tf.max(tf.abs(tf.sub(adversarial, x))).dataSync()[0]);
    expect(deviation).toBeLessThanOrEqual(epsilon + 1e-6);
    expect(tf.tidy(() => tf.min(adversarial).dataSync()[0])).toBeGreaterThanOrEqual(0);
    expect(tf.tidy(() => tf.max(adversarial).dataSync()[0])).toBeLessThanOrEqual(1);
    const wrong = tf.tidy(() => tf.notEqual(tf.argMax(model.predict(adversarial) as tf.Tensor2D, 1), y).dataSync());
    expect(Array.from(wrong)).toEqual(Array.from(success));
    expect(success.some((s) => s === 1)).toBe(true);
    adversarial.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks its options, naming the argument', () => {
    expect(() => square(model, x, y, { queries: 0 })).toThrow(InvalidArgumentError);
    expect(() => square(model, x, y, { epsilon: 8 })).toThrow(/epsilon/);
  });
});
