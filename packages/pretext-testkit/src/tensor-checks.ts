import * as tf from '@tensorflow/tfjs-core';
import type { ModelLike } from '@moco-robust/core';

/** True for a live tfjs tensor (checked structurally: safe across package copies). */
export function isTensor(value: unknown): value is tf.Tensor {
  const v = value as tf.Tensor;
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray(v.shape) &&
    typeof v.dtype === 'string' &&
    typeof v.dataSync === 'function'
  );
}

/** [min, max] of a tensor's values read back as two scalars (NaN when any value is NaN). */
export function finiteRange(t: tf.Tensor): [number, number] {
  if (t.size === 0) return [0, 0];
  return tf.tidy(() => {
    const hasNaN = tf.any(tf.isNaN(t)).dataSync()[0] === 1;
    if (hasNaN) return [NaN, NaN];
    return [tf.min(t).dataSync()[0], tf.max(t).dataSync()[0]];
  });
}

/** Largest absolute difference of two tensors of one shape (Infinity when the shapes differ). */
export function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) return Infinity;
  if (a.size === 0) return 0;
  return tf.tidy(() => tf.max(tf.abs(tf.sub(tf.cast(a, 'float32'), tf.cast(b, 'float32')))).dataSync()[0]);
}

/** Weight tensors a model owns (all of a LayersModel's `weights`, batch-norm statistics included). */
export function weightCount(model: ModelLike): number {
  const weights = (model as Partial<{ weights: unknown[] }>).weights;
  return Array.isArray(weights) ? weights.length : model.getWeights().length;
}
