import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@moco-robust/core';

/**
 * The standard supervised CIFAR augmentation, batched in one `cropAndResize`: zero-pad by `padding`
 * (default 4), take a random H×W crop per image and flip it horizontally with probability 1/2.
 * Boxes land on whole pixels, so crops are exact copies (no interpolation).
 */
export function randomCropFlip(images: tf.Tensor4D, rng: Rng, padding = 4): tf.Tensor4D {
  const [n, h, w] = images.shape;
  const boxes = new Float32Array(n * 4);
  const ph = h + 2 * padding - 1;
  const pw = w + 2 * padding - 1;
  for (let i = 0; i < n; i++) {
    const top = rng.int(2 * padding + 1);
    const left = rng.int(2 * padding + 1);
    const flip = rng.float() < 0.5;
    boxes[i * 4] = top / ph;
    boxes[i * 4 + 2] = (top + h - 1) / ph;
    boxes[i * 4 + (flip ? 3 : 1)] = left / pw;
    boxes[i * 4 + (flip ? 1 : 3)] = (left + w - 1) / pw;
  }
  return tf.tidy(() => {
    const padded = tf.pad(images, [
      [0, 0],
      [padding, padding],
      [padding, padding],
      [0, 0],
    ]) as tf.Tensor4D;
    const indices = tf.range(0, n, 1, 'int32') as tf.Tensor1D;
    return tf.image.cropAndResize(padded, tf.tensor2d(boxes, [n, 4]), indices, [h, w], 'nearest');
  });
}
