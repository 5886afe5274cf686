import * as tf from '@tensorflow/tfjs-core';
import { lazyFusedBatchNormGradient } from './batch-norm-gradient';
import { conv2dGradient } from './conv2d-gradient';
import { nativeReluGradKernel, reluGradient, RELU_GRAD_KERNEL } from './node-relu-gradient';

let registered = false;

/**
 * Cheaper backpropagation on the native (`tensorflow`) backend: registers TensorFlow's `ReluGrad`
 * as a kernel and replaces the gradients of `Relu` (one kernel instead of `step` + casts + multiply),
 * `FusedBatchNorm` (only what is asked for, no full-size `tile`) and `Conv2D` (the input gradient of a
 * stride-1 convolution as a forward convolution with the rotated filter). All three gradients fall back to
 * tfjs-core's arithmetic on other backends, so they stay correct after a backend switch (gradients
 * are global). Idempotent; called by `selectBackend()` — never at import.
 */
export function registerNodeTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel(RELU_GRAD_KERNEL, 'tensorflow') === undefined) tf.registerKernel(nativeReluGradKernel);
  tf.registerGradient(reluGradient);
  tf.registerGradient(lazyFusedBatchNormGradient);
  tf.registerGradient(conv2dGradient);
}
