// Test support (not exported): a cheap augmentation for fast engine tests.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@moco-robust/core';
import type { TwoViews } from '../moco-task';

/** A cheap seeded two-view augmentation: per-image horizontal flip and brightness jitter. */
export const flipJitter: TwoViews = (images: tf.Tensor4D, rng: Rng) => {
  const view = () =>
    tf.tidy(() => {
      const n = images.shape[0];
      const flips = tf.tensor4d(
        Array.from({ length: n }, () => (rng.float() < 0.5 ? 1 : 0)),
        [n, 1, 1, 1],
      );
      const flipped = tf.add(tf.mul(tf.reverse(images, 2), flips), tf.mul(images, tf.sub(1, flips)));
      const scale = tf.tensor4d(
        Array.from({ length: n }, () => rng.uniform(0.6, 1.4)),
        [n, 1, 1, 1],
      );
      return tf.clipByValue(tf.mul(flipped, scale), 0, 1) as tf.Tensor4D;
    });
  return [view(), view()];
};
