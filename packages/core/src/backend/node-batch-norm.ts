import * as tf from '@tensorflow/tfjs-core';
import { batchNormAffine } from './conv-affine';

/**
 * The native CPU backend's `FusedBatchNorm` (inference-mode batch-norm, y = (x − μ)·γ/√(σ² + ε) + β) as a
 * per-channel affine map, y = x·f + (β − μ·f) with f = γ/√(σ² + ε): the factors on the [C] statistics, then
 * one multiply and one add over the input. tfjs-node runs TensorFlow's `FusedBatchNorm` op, which TensorFlow's
 * oneDNN build rewrites to its oneDNN batch-normalisation: 20 ms on a 32×32×32×64 batch against 0.8 ms for the
 * multiply and add (docs/performance-notes.md #26). Values equal TensorFlow's to rounding. The gradient is the
 * one registered for the kernel (`lazyFusedBatchNormGradient`), which reads only the saved inputs. Inside
 * `withConstantWeights` (an attack) the factor and shift are computed once per layer: two kernels per call.
 */
export const nativeBatchNormKernel: tf.KernelConfig = {
  kernelName: tf.FusedBatchNorm,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, attrs }) => {
    const { x, mean, variance, scale, offset } = inputs as Record<string, tf.Tensor | undefined> as {
      x: tf.Tensor;
      mean: tf.Tensor;
      variance: tf.Tensor;
      scale?: tf.Tensor;
      offset?: tf.Tensor;
    };
    const epsilon = (attrs as { varianceEpsilon: number }).varianceEpsilon;
    return tf.tidy(() => {
      const [factor, shift] = batchNormAffine({ mean, variance, scale, offset }, epsilon);
      return tf.add(tf.mul(x, factor), shift);
    });
  },
};

let replaced = false;

/**
 * Replaces tfjs-node's `FusedBatchNorm` kernel by {@link nativeBatchNormKernel} on the native CPU backend (not the GPU
 * build, whose cuDNN batch-norm is one pass). Idempotent; called by `selectBackend()` — never at import.
 */
export function registerAffineBatchNorm(): void {
  if (replaced) return;
  replaced = true;
  if (tf.getKernel(tf.FusedBatchNorm, 'tensorflow') !== undefined) tf.unregisterKernel(tf.FusedBatchNorm, 'tensorflow');
  tf.registerKernel(nativeBatchNormKernel);
}
