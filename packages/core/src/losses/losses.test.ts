import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { accuracy, crossEntropy } from './cross-entropy';
import { infoNce, infoNceLogits, l2Normalize, ntXent } from './info-nce';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('crossEntropy', () => {
  it('matches a hand computation per example', () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    const labels = tf.tensor1d([2, 1], 'int32');
    const loss = crossEntropy(logits, labels).arraySync();
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(loss[0]).toBeCloseTo(lse - 3, 6);
    expect(loss[1]).toBeCloseTo(Math.log(3), 6);
    expect(accuracy(logits, labels).arraySync()).toBe(0.5);
  });
});

describe('infoNce', () => {
  it('matches a hand-computed value', () => {
    // q = (1, 0), k = (0.6, 0.8), queue = [(0, 1), (-1, 0)], T = 0.5
    const q = tf.tensor2d([[2, 0]]); // normalised inside to (1, 0)
    const k = tf.tensor2d([[0.6, 0.8]]);
    const queue = tf.tensor2d([
      [0, 1],
      [-1, 0],
    ]);
    const logits = infoNceLogits(q, k, queue, 0.5).arraySync()[0];
    expect(logits[0]).toBeCloseTo(1.2, 6);
    expect(logits[1]).toBeCloseTo(0, 6);
    expect(logits[2]).toBeCloseTo(-2, 6);
    const expected = -Math.log(Math.exp(1.2) / (Math.exp(1.2) + Math.exp(0) + Math.exp(-2)));
    expect(infoNce(q, k, queue, 0.5).arraySync()[0]).toBeCloseTo(expected, 6);
  });

  it('is low for aligned pairs and high for misaligned ones', () => {
    const q = tf.tensor2d([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    const queue = l2Normalize(
      tf.tensor2d([
        [0, 0, 1],
        [1, 1, 1],
      ]),
    );
    const aligned = infoNce(q, q, queue, 0.1).arraySync();
    const swapped = infoNce(q, tf.reverse(q, 0) as tf.Tensor2D, queue, 0.1).arraySync();
    for (let i = 0; i < 2; i++) expect(swapped[i]).toBeGreaterThan(aligned[i] + 1);
  });
});

describe('ntXent', () => {
  it('matches a hand computation with two pairs', () => {
    const z1 = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const z2 = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const t = 0.5;
    const loss = ntXent(z1, z2, t).arraySync();
    // anchor 0: positive sim 1, negatives: z1[1]·z1[0]=0, z2[1]·z1[0]=0
    const expected = -Math.log(Math.exp(1 / t) / (Math.exp(1 / t) + 2 * Math.exp(0)));
    for (const v of loss) expect(v).toBeCloseTo(expected, 5);
  });
});
