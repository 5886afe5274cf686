import * as tf from '@tensorflow/tfjs-core';
import { CONV_AFFINE_KERNEL, convAffineGradient, type ConvAffineAttrs } from './conv-affine';
import { inputGradientAsForwardConvolution } from './conv2d-gradient';
import { nativeLinfBoxProjectionKernel } from './linf-box-projection';
import { nativeAveragePoolKernels } from './node-average-pool';
import { fallbackTo, type NativeBackend } from './native-backend';

/** The TensorFlow ops `packages/core/native/onednn-convolution.cc` registers. */
export const ONEDNN_CONV2D_OP = 'MocoConv2D';
export const ONEDNN_CONV2D_FILTER_GRADIENT_OP = 'MocoConv2DBackpropFilter';
export const ONEDNN_CONV2D_AFFINE_OP = 'MocoConv2DAffine';
export const ONEDNN_CONV2D_AFFINE_RESIDUAL_OP = 'MocoConv2DAffineResidual';

type Pair = [number, number];
type Pad = tf.backend_util.ExplicitPadding | 'valid' | 'same' | number;
interface ConvAttrs {
  strides: number | Pair;
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | Pair;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const pair = (v: number | Pair | undefined): Pair => (v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v);

/** The op's geometry attrs from tfjs's resolved convolution info: strides, explicit pads, dilations. */
function geometryAttrs(backend: NativeBackend, info: tf.backend_util.Conv2DInfo) {
  const int = backend.binding.TF_ATTR_INT;
  const { top, bottom, left, right } = info.padInfo;
  return [
    { name: 'strides', type: int, value: [info.strideHeight, info.strideWidth] },
    { name: 'pads', type: int, value: [top, bottom, left, right] },
    { name: 'dilations', type: int, value: [info.dilationHeight, info.dilationWidth] },
  ];
}

/** Whether oneDNN runs this convolution: float32 NHWC (everything tfjs-node's own kernels accept but NCHW). */
const runsOnOneDnn = (attrs: ConvAttrs, ...tensors: tf.TensorInfo[]) =>
  (attrs.dataFormat ?? 'NHWC') === 'NHWC' && tensors.every((t) => t.dtype === 'float32');

function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    pair(attrs.dilations),
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

function convolve(backend: NativeBackend, x: tf.TensorInfo, filter: tf.TensorInfo, attrs: ConvAttrs): tf.Tensor {
  const info = convInfo(x.shape, filter.shape, attrs);
  return backend.executeSingleOutput(ONEDNN_CONV2D_OP, geometryAttrs(backend, info), [x, filter]);
}

/**
 * The native CPU backend's convolution kernels on oneDNN's own library (Debian's libdnnl) instead of the oneDNN
 * bundled in TensorFlow 2.21: `Conv2D`, `FusedConv2D` (the convolution here, then tfjs-node's bias and activation),
 * `Conv2DBackpropInput` (as forward convolutions where that is exact), `Conv2DBackpropFilter` and moco-robust's
 * {@link CONV_AFFINE_KERNEL} (the batch-norm folded into the convolution, the ReLU a post-op).
 * Anything they do not cover (NCHW, other dtypes) runs `original`'s kernel, tfjs-node's.
 * Values agree with TensorFlow's to float rounding (the sums run in another order).
 */
export function oneDnnConvolutionKernels(original: Partial<Record<string, tf.KernelFunc>>): tf.KernelConfig[] {
  const fallback = fallbackTo(original);
  return [
    {
      kernelName: tf.Conv2D,
      backendName: 'tensorflow',
      kernelFunc: (args) => {
        const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
        const attrs = args.attrs as unknown as ConvAttrs;
        if (!runsOnOneDnn(attrs, x, filter)) return fallback(tf.Conv2D, args);
        return convolve(args.backend as unknown as NativeBackend, x, filter, attrs);
      },
    },
    {
      kernelName: tf.FusedConv2D,
      backendName: 'tensorflow',
      kernelFunc: (args) => {
        const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.Tensor | undefined> as {
          x: tf.Tensor;
          filter: tf.Tensor;
          bias?: tf.Tensor;
          preluActivationWeights?: tf.Tensor;
        };
        const attrs = args.attrs as unknown as ConvAttrs & { activation: string; leakyreluAlpha?: number };
        if (!runsOnOneDnn(attrs, x, filter)) return fallback(tf.FusedConv2D, args);
        const backend = args.backend as unknown as NativeBackend;
        return tf.tidy(() => {
          const convolved = convolve(backend, x, filter, attrs);
          const biased = bias === undefined ? convolved : tf.add(convolved, bias);
          return backend.applyActivation(biased, attrs.activation, preluActivationWeights, attrs.leakyreluAlpha);
        });
      },
    },
    {
      kernelName: CONV_AFFINE_KERNEL,
      backendName: 'tensorflow',
      kernelFunc: (args) => {
        const { x, filter, scale, shift, residual } = args.inputs as Record<string, tf.TensorInfo | undefined>;
        const attrs = args.attrs as unknown as ConvAffineAttrs;
        const backend = args.backend as unknown as NativeBackend;
        const info = convInfo(x!.shape, filter!.shape, attrs);
        return backend.executeSingleOutput(
          residual === undefined ? ONEDNN_CONV2D_AFFINE_OP : ONEDNN_CONV2D_AFFINE_RESIDUAL_OP,
          [...geometryAttrs(backend, info), { name: 'relu', type: backend.binding.TF_ATTR_BOOL, value: attrs.relu }],
          [x!, filter!, scale!, shift!, ...(residual === undefined ? [] : [residual])],
        );
      },
    },
    {
      // tf.conv2dTranspose and the input gradients conv2dGradient leaves to it: with TensorFlow's oneDNN rewrites off
      // (onednn-convolution-addon.ts), TensorFlow's own op is Eigen's, 0.5× oneDNN's convolution at ResNet shapes
      kernelName: tf.Conv2DBackpropInput,
      backendName: 'tensorflow',
      kernelFunc: (args) => {
        const { dy, filter } = args.inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
        const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
        const asForward = runsOnOneDnn(attrs, dy, filter)
          ? tf.tidy(() => inputGradientAsForwardConvolution(dy, filter, attrs.inputShape, { ...attrs, dilations: 1 }))
          : undefined;
        return asForward ?? fallback(tf.Conv2DBackpropInput, args);
      },
    },
    {
      kernelName: tf.Conv2DBackpropFilter,
      backendName: 'tensorflow',
      kernelFunc: (args) => {
        const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
        const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
        if (!runsOnOneDnn(attrs, x, dy)) return fallback(tf.Conv2DBackpropFilter, args);
        const backend = args.backend as unknown as NativeBackend;
        const info = convInfo(x.shape, attrs.filterShape, attrs);
        return backend.executeSingleOutput(
          ONEDNN_CONV2D_FILTER_GRADIENT_OP,
          [
            ...geometryAttrs(backend, info),
            { name: 'filter_shape', type: backend.binding.TF_ATTR_INT, value: attrs.filterShape },
          ],
          [x, dy],
        );
      },
    },
  ];
}

let registered: string | undefined;

/**
 * Replaces tfjs-node's convolution kernels by {@link oneDnnConvolutionKernels}, and its average pooling by
 * `nativeAveragePoolKernels`, once `load()` — which loads the built `onednn-convolution.node`, registering its ops
 * with TensorFlow — gives a oneDNN version; registers the addon's FAB projection kernel. Idempotent.
 * Returns whose convolutions run: `oneDNN <version>`, or `TensorFlow (<why not oneDNN>)`.
 */
export function registerOneDnnConvolution(load: () => { version: string } | { missing: string }): string {
  if (registered !== undefined) return registered;
  const loaded = load();
  if ('missing' in loaded) return `TensorFlow (${loaded.missing})`;
  const names = [
    tf.Conv2D,
    tf.FusedConv2D,
    tf.Conv2DBackpropInput,
    tf.Conv2DBackpropFilter,
    tf.AvgPool,
    tf.AvgPoolGrad,
  ];
  const original = Object.fromEntries(names.map((name) => [name, tf.getKernel(name, 'tensorflow')?.kernelFunc]));
  // the addon's other ops too: average pooling over windows that do not overlap (node-average-pool.ts) and FAB's
  // projection step (linf-box-projection.ts)
  const kernels = [...oneDnnConvolutionKernels(original), ...nativeAveragePoolKernels(original)];
  for (const kernel of [...kernels, nativeLinfBoxProjectionKernel]) {
    if (tf.getKernel(kernel.kernelName, 'tensorflow') !== undefined)
      tf.unregisterKernel(kernel.kernelName, 'tensorflow');
    tf.registerKernel(kernel);
  }
  tf.registerGradient(convAffineGradient);
  registered = `oneDNN ${loaded.version}`;
  return registered;
}
