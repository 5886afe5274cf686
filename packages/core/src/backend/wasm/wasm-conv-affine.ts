import type * as tf from '@tensorflow/tfjs-core';
import { weightsAreConstant } from '../constant-weights';
import { CONV_AFFINE_KERNEL, type ConvAffineAttrs, scaledFilter } from '../conv-affine';
import { type Backend, runner } from './conv-backprop';

/**
 * wasm's kernel for {@link CONV_AFFINE_KERNEL} — `conv(x, filter)·scale + shift (+ residual)`, then the ReLU: the
 * scale folded into the filter (`filter·scale`, made once per attack inside `withConstantWeights`, the same cached
 * tensor the gradient's input path reads), the shift as the bias of XNNPACK's fused convolution and the ReLU its
 * activation; with a residual, the sum and then the ReLU after it. In an attack's inference mode the model
 * executor runs each conv → batch-norm (→ residual sum) (→ ReLU) of a ResNet through it: the batch-norm's
 * full-size pass goes (17.7 % of a ResNet-18 forward on wasm) and each attack step's batch-norm gradient with it.
 */
export const wasmConvAffineKernel: tf.KernelConfig = {
  kernelName: CONV_AFFINE_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x, filter, scale, shift, residual } = inputs as Record<string, tf.Tensor | undefined>;
    const { strides, pad, dilations, relu } = attrs as unknown as ConvAffineAttrs;
    const folded = scaledFilter(filter as tf.Tensor4D, scale as tf.Tensor1D);
    const { run, release } = runner(backend as Backend, 'wasm');
    const activation = relu && residual === undefined ? 'relu' : 'linear';
    const convolved = run(
      'FusedConv2D',
      { x: x!, filter: folded, bias: shift! },
      { strides, pad, dilations, dataFormat: 'NHWC', activation },
    );
    let out = convolved;
    if (residual !== undefined) {
      out = run('Add', { a: convolved, b: residual });
      if (relu) out = run('Relu', { x: out });
    }
    release(out);
    if (!weightsAreConstant()) folded.dispose();
    return out;
  },
};
