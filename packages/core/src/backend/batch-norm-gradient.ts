import * as tf from '@tensorflow/tfjs-core';
import { constantTransform } from './constant-weights';

/**
 * An inference-mode batch-norm's per-channel factor γ/√(σ² + ε) (1/√(σ² + ε) without γ), shaped like
 * `variance`; computed once per weights inside `withConstantWeights` (an attack), else on every call.
 */
export function batchNormFactor(variance: tf.Tensor, scale: tf.Tensor | undefined, epsilon: number): tf.Tensor {
  return constantTransform(`batch-norm-factor:${epsilon}`, [variance, scale], () => [
    tf.tidy(() => {
      const inverseStd = tf.rsqrt(tf.add(variance, tf.scalar(epsilon)));
      return scale == null ? inverseStd : tf.mul(inverseStd, scale);
    }),
  ])[0]!;
}

/**
 * The gradient of `FusedBatchNorm` (y = (x − μ)·γ/√(σ² + ε) + β) computing only what backpropagation
 * asks for. tfjs-core's version computes `x − μ` and `dy·γ` for every call before it knows which
 * inputs need a gradient, and builds ∂y/∂x with a full-size `tile`: in an attack, where the model is
 * in inference mode and only ∂y/∂x is wanted, that is three full-size kernels more per batch-norm.
 * Here ∂y/∂x is one multiply by the per-channel factor γ/√(σ² + ε), and per-channel sums are taken
 * before, not after, multiplying by per-channel factors. Same values as tfjs-core's (to rounding).
 */
export const lazyFusedBatchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const gradient = dy as tf.Tensor;
    const epsilon = attrs.varianceEpsilon as number;
    const [x, mean, variance, scale] = saved;
    const perChannel = mean.rank === 1; // statistics [C] broadcast over the last axis
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor) => tf.reshape(perChannel ? tf.sum(t, axes) : t, mean.shape);
    const inverseStd = () => tf.rsqrt(tf.add(variance, tf.scalar(epsilon))); // 1/σ, like mean
    const factor = () => (scale == null ? inverseStd() : tf.mul(inverseStd(), scale)); // γ/σ
    // Σ dy·f for a per-channel f is f·Σ dy: reduce first, multiply the [C] result
    const reduceTimes = (t: tf.Tensor, f: () => tf.Tensor) =>
      perChannel ? tf.mul(reduce(t), f()) : reduce(tf.mul(t, f()));
    const centredGradient = () => tf.mul(gradient, tf.sub(x, mean)); // dy·(x − μ)
    return {
      x: () => tf.reshape(tf.mul(gradient, batchNormFactor(variance, scale, epsilon)), x.shape),
      mean: () => reduceTimes(gradient, () => tf.neg(factor())),
      variance: () =>
        reduceTimes(centredGradient(), () =>
          tf.mul(tf.mul(tf.pow(inverseStd(), tf.scalar(3)), scale ?? tf.scalar(1)), tf.scalar(-0.5)),
        ),
      scale: () => reduceTimes(centredGradient(), inverseStd),
      offset: () => reduce(gradient),
    };
  },
};
