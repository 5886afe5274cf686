import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { emaUpdate } from './ema';
import { knnAccuracy, knnPredict } from './knn';
import { Queue } from './queue';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Queue', () => {
  it('starts normalised, wraps around and overwrites the oldest keys', () => {
    const queue = new Queue({ size: 6, dim: 2, batchSize: 2, rng: 1 });
    const norms = tf.tidy(() => tf.norm(queue.keys, 'euclidean', 1).dataSync());
    for (const n of norms) expect(n).toBeCloseTo(1, 5);
    const batch = (v: number) =>
      tf.tensor2d([
        [v, 0],
        [0, v],
      ]);
    for (const v of [1, 2, 3, 4]) queue.enqueue(batch(v));
    // 4 batches into 3 slots: slot 0 holds the 4th batch, slots 1-2 the 2nd and 3rd
    expect(queue.pointer).toBe(2);
    expect(Array.from(queue.keys.dataSync())).toEqual([1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]);
    const saved = queue.state();
    const restored = new Queue({ size: 6, dim: 2, batchSize: 2, rng: 99 });
    restored.loadState(saved);
    expect(restored.pointer).toBe(2);
    expect(Array.from(restored.keys.dataSync())).toEqual(Array.from(queue.keys.dataSync()));
    const before = tf.memory().numTensors;
    const b = batch(5);
    queue.enqueue(b);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('requires K to be a multiple of the batch, saying so', () => {
    expect(() => new Queue({ size: 4096, batchSize: 96 })).toThrow(
      /Invalid argument 'size': expected a queue size K that is a multiple of the batch size 96.*got number 4096.*4128/,
    );
    const queue = new Queue({ size: 4, dim: 2 });
    expect(() => queue.enqueue(tf.zeros([3, 2]) as tf.Tensor2D)).toThrow(
      /'keys': expected a queue size K that is a multiple of the batch size 3/,
    );
    expect(() => queue.enqueue(tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(/'keys': expected a tensor \[B, 2\]/);
  });
});

describe('emaUpdate', () => {
  it('computes m·θk + (1 − m)·θq in place', () => {
    const k = tf.variable(tf.tensor1d([1, 2]));
    emaUpdate([k], [tf.tensor1d([3, 6])], 0.9);
    const v = k.dataSync();
    expect(v[0]).toBeCloseTo(0.9 * 1 + 0.1 * 3, 6);
    expect(v[1]).toBeCloseTo(0.9 * 2 + 0.1 * 6, 6);
    expect(() => emaUpdate([k], [tf.zeros([3])], 0.9)).toThrow(/queries\[0\]/);
  });
});

describe('knn', () => {
  it('votes with exp(sim/T) weights over the k nearest neighbours', () => {
    const bank = tf.tensor2d([
      [1, 0],
      [0.9, 0.1],
      [0, 1],
      [0.1, 0.9],
      [-1, 0],
    ]);
    const labels = tf.tensor1d([0, 0, 1, 1, 2], 'int32');
    const queries = tf.tensor2d([
      [1, 0.05],
      [0.05, 1],
      [-1, 0.1],
    ]);
    expect(Array.from(knnPredict(bank, labels, queries, { k: 2, numClasses: 3 }).dataSync())).toEqual([0, 1, 2]);
    expect(knnAccuracy(bank, labels, queries, tf.tensor1d([0, 1, 1], 'int32'), { k: 2, numClasses: 3 })).toBeCloseTo(
      2 / 3,
    );
    // with k = all, a heavily weighted class wins over count
    expect(
      Array.from(
        knnPredict(bank, labels, tf.tensor2d([[-1, 0]]), { k: 5, numClasses: 3, temperature: 0.01 }).dataSync(),
      ),
    ).toEqual([2]);
  });
});
