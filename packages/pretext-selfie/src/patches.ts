import * as tf from '@tensorflow/tfjs-core';
import { assertImages, InvalidArgumentError, type Rng } from '@moco-robust/core';

/** Which patch slots of the grid are masked (to be filled) and which are visible (seen by the attention pooling). */
export interface SelfieMask {
  /** Masked slots in candidate order: slot `masked[i]`'s true patch is candidate `i`. */
  masked: number[];
  /** The other slots, ascending. */
  visible: number[];
}

/**
 * Number of slots of a grid of `patchSize`×`patchSize` patches over `height`×`width` images (4×4 = 16 for 32×32 and
 * 8).
 */
export function patchSlots(height: number, width: number, patchSize: number): number {
  if (!(Number.isInteger(patchSize) && patchSize > 0 && height % patchSize === 0 && width % patchSize === 0)) {
    throw new InvalidArgumentError({
      argument: 'patchSize',
      expected: `a positive integer dividing the image size ${height}×${width}`,
      received: patchSize,
    });
  }
  return (height / patchSize) * (width / patchSize);
}

/**
 * Cuts images [N, H, W, C] into their grid of non-overlapping `patchSize`×`patchSize` patches,
 * returned as [N·S, p, p, C] with image n's slot s (row-major: slot = row·columns + column) at row
 * n·S + s. Reshape and transpose only, so it is exact and differentiable.
 */
export function imagePatches(images: tf.Tensor4D, patchSize: number): tf.Tensor4D {
  assertImages(images, 'images', { channels: images?.shape?.[3] });
  const [n, height, width, channels] = images.shape;
  const slots = patchSlots(height, width, patchSize);
  const rows = height / patchSize;
  const columns = width / patchSize;
  return tf.tidy(() => {
    const grid = tf.reshape(images, [n, rows, patchSize, columns, patchSize, channels]);
    const patches = tf.transpose(grid, [0, 1, 3, 2, 4, 5]); // [N, rows, columns, p, p, C]
    return tf.reshape(patches, [n * slots, patchSize, patchSize, channels]) as tf.Tensor4D;
  });
}

/**
 * Draws the batch's mask (Chen et al. draw one per batch): a seeded permutation of the `slots`
 * slots whose first `maskedCount` are masked, in the drawn order, and the rest visible, ascending.
 */
export function drawSelfieMask(slots: number, maskedCount: number, rng: Rng): SelfieMask {
  checkMaskedCount(slots, maskedCount);
  const order = Array.from(rng.permutation(slots));
  return { masked: order.slice(0, maskedCount), visible: order.slice(maskedCount).sort((a, b) => a - b) };
}

/** Checks that `maskedCount` of `slots` leaves at least two candidates and one visible patch. */
export function checkMaskedCount(slots: number, maskedCount: number): void {
  if (!(Number.isInteger(maskedCount) && maskedCount >= 2 && maskedCount < slots)) {
    throw new InvalidArgumentError({
      argument: 'maskedPatches',
      expected: `an integer in [2, ${slots - 1}] (at least two candidates and one visible patch of ${slots} slots)`,
      received: maskedCount,
    });
  }
}

/**
 * Picks the rows `slots` of per-slot values `values` [N, S, d], giving [N, k, d]. Written as a
 * product with a one-hot selection matrix (its gradient is a matMul, on every backend); `slots` is
 * an int32 tensor [k] (a pretext target) or an array.
 */
export function selectSlots(values: tf.Tensor3D, slots: tf.Tensor1D | ArrayLike<number>): tf.Tensor3D {
  const [n, count, width] = values.shape;
  return tf.tidy(() => {
    const indices = isTensor(slots) ? tf.cast(slots, 'int32') : tf.tensor1d(Array.from(slots), 'int32');
    const k = indices.shape[0];
    const selection = tf.oneHot(indices as tf.Tensor1D, count); // [k, S]
    const columns = tf.reshape(tf.transpose(values, [0, 2, 1]), [n * width, count]); // [N·d, S]
    const picked = tf.matMul(columns, selection, false, true); // [N·d, k]
    return tf.transpose(tf.reshape(picked, [n, width, k]), [0, 2, 1]) as tf.Tensor3D; // [N, k, d]
  });
}

/** Structural tensor check (no `instanceof` across package copies). */
function isTensor(value: unknown): value is tf.Tensor {
  return typeof value === 'object' && value !== null && 'dataId' in value && 'shape' in value;
}
