import { InvalidArgumentError } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import { batches, epochOrder, splitValidation, type LabelledImageSet } from './image-set';

/** 10 tiny 1×1 images whose pixel bytes and labels are their index. */
const set: LabelledImageSet = {
  images: Uint8Array.from({ length: 30 }, (_, i) => Math.floor(i / 3)),
  labels: Int32Array.from({ length: 10 }, (_, i) => i),
  count: 10,
  height: 1,
  width: 1,
};

describe('the dataset API: seeded shuffling, batching with drop-last, a held-out validation split', () => {
  it('batches in stored order, dropping the last partial batch unless asked not to', () => {
    expect([...batches(set, { batchSize: 4 })].map((b) => Array.from(b.labels))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect([...batches(set, { batchSize: 4, dropLast: false })].map((b) => b.count)).toEqual([4, 4, 2]);
    const [first] = batches(set, { batchSize: 4 });
    // the images travel with their labels
    expect(Array.from(first.images)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(() => [...batches(set, { batchSize: 0 })]).toThrow(InvalidArgumentError);
  });

  it('shuffles by (seed, epoch): reproducible, different per epoch, a permutation, images matching labels', () => {
    const epoch = (seed: number, e: number) =>
      [...batches(set, { batchSize: 5, seed, epoch: e })].flatMap((b) => Array.from(b.labels));
    expect(epoch(1, 0)).toEqual(epoch(1, 0));
    expect(epoch(1, 0)).not.toEqual(epoch(1, 1));
    expect(epoch(1, 0)).not.toEqual(epoch(2, 0));
    expect([...epoch(1, 3)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch(1, 3)).toEqual(Array.from(epochOrder(1, 3, 10)));
    for (const b of batches(set, { batchSize: 5, seed: 4 }))
      b.labels.forEach((label, i) => expect(b.images[3 * i]).toBe(label));
  });

  it('holds out a seeded validation split disjoint from the training part', () => {
    const { train, validation } = splitValidation(set, 3, 7);
    expect(validation!.count).toBe(3);
    expect(train.count).toBe(7);
    expect([...train.labels, ...validation!.labels].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(splitValidation(set, 3, 7).validation!.labels).toEqual(validation!.labels);
    expect(splitValidation(set, 0, 7).validation).toBeUndefined();
  });
});
