import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@moco-robust/core';
import type { Permutation } from './permutations';

/**
 * Cuts each image of `images` [N, H, W, C] into a `grid`×`grid` grid of patches (row-major pieces
 * 0…grid²−1) and reassembles it as an image of the same size in which slot `j` shows piece
 * `orders[i][j]` — one gather of the N·grid² patches, exact copies. H and W must be multiples of `grid`.
 * Shuffling by `invertPermutation(order)` restores the original.
 */
export function shufflePatches(images: tf.Tensor4D, orders: ReadonlyArray<Permutation>, grid: number): tf.Tensor4D {
  const [n, height, width, channels] = images.shape;
  if (!(Number.isInteger(grid) && grid >= 1 && height % grid === 0 && width % grid === 0)) {
    throw new InvalidArgumentError({
      argument: 'grid',
      expected: `an integer ≥ 1 dividing the image size ${height}×${width}`,
      received: grid,
    });
  }
  if (orders.length !== n)
    throw new InvalidArgumentError({
      argument: 'orders',
      expected: `${n} permutations (one per image)`,
      received: orders.length,
    });
  const pieces = grid * grid;
  const indices = new Int32Array(n * pieces);
  for (let i = 0; i < n; i++) {
    const order = orders[i];
    if (order.length !== pieces)
      throw new InvalidArgumentError({
        argument: `orders[${i}]`,
        expected: `a permutation of ${pieces} pieces`,
        received: order,
      });
    for (let j = 0; j < pieces; j++) indices[i * pieces + j] = i * pieces + order[j];
  }
  const ph = height / grid;
  const pw = width / grid;
  return tf.tidy(() => {
    const grids = tf.reshape(images, [n, grid, ph, grid, pw, channels]);
    // [N·P, ph, pw, C]
    const patches = tf.reshape(tf.transpose(grids, [0, 1, 3, 2, 4, 5]), [n * pieces, ph, pw, channels]);
    const shuffled = tf.gather(patches, tf.tensor1d(indices, 'int32')); // [N·P, ph, pw, C]
    // [N, grid, ph, grid, pw, C]
    const back = tf.transpose(tf.reshape(shuffled, [n, grid, grid, ph, pw, channels]), [0, 1, 3, 2, 4, 5]);
    return tf.reshape(back, [n, height, width, channels]) as tf.Tensor4D;
  });
}
