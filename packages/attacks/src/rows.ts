import * as tf from '@tensorflow/tfjs-core';

/** Indices i where `flags[i]` is set. */
export function indicesWhere(flags: ArrayLike<number | boolean>): number[] {
  const out: number[] = [];
  for (let i = 0; i < flags.length; i++) if (flags[i]) out.push(i);
  return out;
}

/** The rows `indices` of `t` (first axis). */
export function gatherRows<T extends tf.Tensor>(t: T, indices: number[]): T {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(indices, 'int32')) as T);
}

/** A copy of `base` whose rows `indices` are replaced by the rows of `rows` (same order). */
export function replaceRows<T extends tf.Tensor>(base: T, indices: number[], rows: tf.Tensor): T {
  if (indices.length === 0) return base.clone();
  return tf.tidy(() => {
    const at = tf.tensor2d(indices, [indices.length, 1], 'int32');
    const scattered = tf.scatterND(at, rows, base.shape);
    const mask = tf.scatterND(at, tf.ones([indices.length], 'bool'), [base.shape[0]]); // [N]
    const shape = [base.shape[0], ...base.shape.slice(1).map(() => 1)];
    return tf.where(tf.reshape(mask, shape), scattered, base) as T;
  });
}
