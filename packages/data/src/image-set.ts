import * as tf from '@tensorflow/tfjs-core';
import { imagesFromUint8, InvalidArgumentError, Rng } from '@moco-robust/core';

/**
 * Images in CIFAR's host layout: uint8 HWC rows of `height·width·3` bytes (32×32 by default), optional int32 labels.
 */
export interface ImageSet {
  images: Uint8Array;
  labels?: Int32Array;
  count: number;
  height?: number;
  width?: number;
}

/** An {@link ImageSet} with labels (e.g. a CIFAR-10 split). */
export interface LabelledImageSet extends ImageSet {
  labels: Int32Array;
}

/** Bytes per image of a set. */
export function imageBytes(set: ImageSet): number {
  return (set.height ?? 32) * (set.width ?? 32) * 3;
}

/**
 * Checks that `set` holds `count` images of its size (and `count` labels when `labelled`); names `argument` otherwise.
 */
export function assertImageSet(set: ImageSet, argument: string, options: { labelled?: boolean } = {}): void {
  const ok =
    set &&
    set.images instanceof Uint8Array &&
    Number.isInteger(set.count) &&
    set.images.length === set.count * imageBytes(set) &&
    (!options.labelled || (set.labels instanceof Int32Array && set.labels.length === set.count));
  if (!ok) {
    throw new InvalidArgumentError({
      argument,
      expected:
        `{ images: Uint8Array of count×H×W×3 bytes (HWC), ` +
        `count${options.labelled ? ', labels: Int32Array of count' : ', labels?'} }`,
      received: set,
    });
  }
}

/**
 * The order of the images in `epoch`: a pure function of (seed, epoch), so a run resumed at any step
 * sees the same batches as an uninterrupted one.
 */
export function epochOrder(seed: number, epoch: number, count: number): Int32Array {
  return Rng.fromSeed(seed).fork(`epoch/${epoch}`).permutation(count);
}

/** The images (and labels) at `indices`, copied into a new set. */
export function subsetImages<S extends ImageSet>(set: S, indices: ArrayLike<number>): S {
  const bytes = imageBytes(set);
  const images = new Uint8Array(indices.length * bytes);
  const labels = set.labels ? new Int32Array(indices.length) : undefined;
  for (let i = 0; i < indices.length; i++) {
    images.set(set.images.subarray(indices[i] * bytes, (indices[i] + 1) * bytes), i * bytes);
    if (labels) labels[i] = set.labels![indices[i]];
  }
  return { ...set, images, labels, count: indices.length };
}

/** Splits off `size` images (a seeded random subset) as a validation set; the rest trains. */
export function splitValidation<S extends ImageSet>(set: S, size: number, seed: number): { train: S; validation?: S } {
  if (size <= 0) return { train: set };
  const order = Rng.fromSeed(seed).fork('validation').permutation(set.count);
  return { validation: subsetImages(set, order.subarray(0, size)), train: subsetImages(set, order.subarray(size)) };
}

/** The images at `indices` as a float32 NHWC batch in [0, 1]. */
export function gatherImages(set: ImageSet, indices: ArrayLike<number>): tf.Tensor4D {
  const subset = subsetImages({ ...set, labels: undefined }, indices);
  return imagesFromUint8(subset.images, subset.count, set.height ?? 32, set.width ?? 32, 3);
}

/** Images `start … start + size − 1` as a float32 batch (for evaluation and feature banks). */
export function sliceImages(set: ImageSet, start: number, size: number): tf.Tensor4D {
  const bytes = imageBytes(set);
  return imagesFromUint8(
    set.images.subarray(start * bytes, (start + size) * bytes),
    size,
    set.height ?? 32,
    set.width ?? 32,
    3,
  );
}

/** Labels `start … start + size − 1` as an int32 tensor. */
export function sliceLabels(set: LabelledImageSet, start: number, size: number): tf.Tensor1D {
  return tf.tensor1d(set.labels.subarray(start, start + size), 'int32');
}

/** Options of {@link batches}. */
export interface BatchOptions {
  batchSize: number;
  /** Seed of the shuffling; with `epoch`, the order is `epochOrder(seed, epoch, count)`. Omit for the stored order. */
  seed?: number;
  epoch?: number;
  /** Drop the last partial batch (MoCo's queue needs equal batches); default true. */
  dropLast?: boolean;
}

/**
 * One epoch of a set in batches of indices and copied images/labels (host arrays; `sliceImages` or
 * `gatherImages` turn them into tensors): shuffled by `epochOrder(seed, epoch)` when a seed is given,
 * the last partial batch dropped unless `dropLast: false`.
 */
export function* batches<S extends ImageSet>(set: S, options: BatchOptions): Generator<S & { indices: Int32Array }> {
  const { batchSize, dropLast = true } = options;
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new InvalidArgumentError({ argument: 'batchSize', expected: 'a positive integer', received: batchSize });
  const order =
    options.seed === undefined
      ? Int32Array.from({ length: set.count }, (_, i) => i)
      : epochOrder(options.seed, options.epoch ?? 0, set.count);
  const end = dropLast ? set.count - (set.count % batchSize) : set.count;
  for (let start = 0; start < end; start += batchSize) {
    const indices = order.subarray(start, Math.min(start + batchSize, end));
    yield { ...subsetImages(set, indices), indices: Int32Array.from(indices) };
  }
}
