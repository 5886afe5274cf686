import * as tf from '@tensorflow/tfjs-core';
import { lazyFusedBatchNormGradient } from '../batch-norm-gradient';
import { convAffineGradient } from '../conv-affine';
import { conv2dBackpropFilterFromConv, conv2dBackpropInputFromConv } from './conv-backprop';
import { wasmConvAffineKernel } from './wasm-conv-affine';

let registered = false;

/**
 * Makes convnets trainable on tfjs 4.22's wasm backend: registers a `Conv2DBackpropFilter` (which
 * wasm lacks) and replaces wasm's naive-loop `Conv2DBackpropInput`, both built from wasm's fast
 * XNNPACK convolution; and replaces batch-norm's gradient with the lazy one (only what backpropagation
 * asks for, broadcasting instead of tfjs-core's full-size `tile`, slow on wasm; exact on every backend,
 * and gradients are global); and registers moco-robust's conv → batch-norm (→ residual) (→ ReLU) kernel,
 * which the model executor runs in an attack's inference mode (`wasmConvAffineKernel`: the batch-norm folded into
 * XNNPACK's fused convolution).
 * Idempotent; called by `selectBackend()` — never at import.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2dBackpropFilterFromConv('wasm'),
    });
  }
  if (tf.getKernel('Conv2DBackpropInput', 'wasm') !== undefined) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: conv2dBackpropInputFromConv('wasm'),
  });
  tf.registerGradient(lazyFusedBatchNormGradient);
  if (tf.getKernel(wasmConvAffineKernel.kernelName, 'wasm') === undefined) tf.registerKernel(wasmConvAffineKernel);
  tf.registerGradient(convAffineGradient);
}
