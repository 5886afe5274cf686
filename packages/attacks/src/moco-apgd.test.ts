import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { mocoApgd } from './moco-apgd';
import { mocoLoss } from './moco-pgd';
import { randomBatch, randomUnitRows, tinyConvNet } from './test-helpers/tiny-conv-net';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('MoCo-APGD', () => {
  const embedder = tinyConvNet(16, 2);
  const { x } = randomBatch(6);
  const objective = { query: embedder, keys: randomUnitRows(6, 16, 11), queue: randomUnitRows(32, 16, 12) };

  it('raises the InfoNCE loss without a label, stays in the ε-ball and [0, 1], leaks nothing', () => {
    const before = tf.memory().numTensors;
    const epsilon = 8 / 255;
    const adversarial = mocoApgd(objective, x, { epsilon, steps: 10, rng: 1 });
    const loss = mocoLoss(objective);
    const mean = (input: tf.Tensor4D) => tf.tidy(() => tf.mean(loss(input)).dataSync()[0]);
    expect(mean(adversarial)).toBeGreaterThan(mean(x));
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(adversarial, x))).dataSync()[0])).toBeLessThanOrEqual(epsilon + 1e-6);
    expect(tf.tidy(() => tf.min(adversarial).dataSync()[0])).toBeGreaterThanOrEqual(0);
    expect(tf.tidy(() => tf.max(adversarial).dataSync()[0])).toBeLessThanOrEqual(1);
    adversarial.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses keys that do not match the batch, naming them', () => {
    expect(() => mocoApgd({ ...objective, keys: randomUnitRows(5, 16, 1) }, x)).toThrow(/objective.keys/);
  });
});
