import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@moco-robust/core';

/** Number of rotation classes: 0°, 90°, 180°, 270°. */
export const ROTATION_CLASSES = 4;

/**
 * Rotates a whole batch of square images [N, S, S, C] counter-clockwise by `k`·90° (the direction of
 * NumPy's `rot90` and PyTorch's `rot90(x, k, [H, W])`), with transpose and reverse only (exact copies).
 */
export function rotateBatch(images: tf.Tensor4D, k: number): tf.Tensor4D {
  const quarter = ((k % 4) + 4) % 4;
  return tf.tidy(() => {
    if (quarter === 0) return tf.clone(images);
    if (quarter === 2) return tf.reverse(images, [1, 2]);
    if (quarter === 1) return tf.reverse(tf.transpose(images, [0, 2, 1, 3]), 1); // out[i][j] = in[j][S−1−i]
    return tf.transpose(tf.reverse(images, 1), [0, 2, 1, 3]); // out[i][j] = in[S−1−j][i]
  });
}

/**
 * Rotates image `i` of `images` [N, S, S, C] counter-clockwise by `rotations[i]`·90°, `rotations[i]`
 * ∈ {0, 1, 2, 3}: all four rotations of the batch are stacked and one gather picks each image's.
 */
export function rotateImages(images: tf.Tensor4D, rotations: ArrayLike<number>): tf.Tensor4D {
  const [n, height, width] = images.shape;
  if (height !== width)
    throw new InvalidArgumentError({
      argument: 'images',
      expected: 'square images [N, S, S, C] (a rotation by 90° must keep the shape)',
      received: images,
    });
  if (rotations.length !== n)
    throw new InvalidArgumentError({
      argument: 'rotations',
      expected: `${n} rotation labels (one per image)`,
      received: rotations.length,
    });
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = rotations[i];
    if (!(Number.isInteger(k) && k >= 0 && k < ROTATION_CLASSES))
      throw new InvalidArgumentError({
        argument: `rotations[${i}]`,
        expected: 'an integer in {0, 1, 2, 3}',
        received: k,
      });
    indices[i] = k * n + i;
  }
  return tf.tidy(() => {
    const all = tf.concat([0, 1, 2, 3].map((k) => rotateBatch(images, k))); // [4N, S, S, C], block k = rotation k
    return tf.gather(all, tf.tensor1d(indices, 'int32')) as tf.Tensor4D;
  });
}
