import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@moco-robust/core';

/**
 * Momentum (exponential moving average) update of MoCo's key encoder, in place:
 * `θk ← m·θk + (1 − m)·θq` for each pair of `keys` (variables) and `queries` (same shapes, same order).
 * MoCo's CIFAR demo uses m = 0.99.
 */
export function emaUpdate(keys: tf.Variable[], queries: tf.Tensor[], momentum: number): void {
  if (!(momentum >= 0 && momentum <= 1))
    throw new InvalidArgumentError({ argument: 'momentum', expected: 'a number in [0, 1]', received: momentum });
  if (keys.length !== queries.length) {
    throw new InvalidArgumentError({
      argument: 'queries',
      expected: `${keys.length} tensors, one per key-encoder weight`,
      received: queries.length,
    });
  }
  tf.tidy(() => {
    keys.forEach((k, i) => {
      const q = queries[i];
      if (k.shape.join(',') !== q.shape.join(',')) {
        throw new InvalidArgumentError({
          argument: `queries[${i}]`,
          expected: `shape [${k.shape}] like ${k.name}`,
          received: q,
        });
      }
      k.assign(tf.add(tf.mul(k, momentum), tf.mul(q, 1 - momentum)));
    });
  });
}
