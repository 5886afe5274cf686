import * as tf from '@tensorflow/tfjs-core';
import { fallbackTo, type NativeBackend } from './native-backend';

/** The TensorFlow ops `packages/core/native/average-pool.cc` registers (in the oneDNN addon). */
export const AVERAGE_POOL_OP = 'MocoAvgPool';
export const AVERAGE_POOL_GRADIENT_OP = 'MocoAvgPoolGrad';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** A pooling's window and strides as the addon's ops take them. */
interface Windows {
  ksize: [number, number];
  strides: [number, number];
}

/**
 * The window and strides when tfjs's pooling attrs on an input of `shape` describe windows that do not overlap
 * (window ≤ stride) with no padding — a ResNet's 2×2 downsampling, a 1×1 stride-2 subsampling — else undefined.
 */
function separateWindows(shape: number[], attrs: PoolAttrs): Windows | undefined {
  if (shape.length !== 4) return undefined;
  const info = tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  const [kh, kw, sh, sw] = [info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth];
  const fits =
    top + bottom + left + right === 0 &&
    kh <= sh &&
    kw <= sw &&
    shape[1]! >= kh &&
    shape[2]! >= kw &&
    info.outHeight === Math.floor((shape[1]! - kh) / sh) + 1 &&
    info.outWidth === Math.floor((shape[2]! - kw) / sw) + 1;
  return fits ? { ksize: [kh, kw], strides: [sh, sw] } : undefined;
}

const windowAttrs = (backend: NativeBackend, { ksize, strides }: Windows) => [
  { name: 'ksize', type: backend.binding.TF_ATTR_INT, value: ksize },
  { name: 'strides', type: backend.binding.TF_ATTR_INT, value: strides },
];

/**
 * The native CPU backend's `AvgPool` and `AvgPoolGrad` over windows that do not overlap, with no padding, on the
 * addon's ops (one pass over the tensor); any other pooling runs `original`'s kernel, tfjs-node's (TensorFlow's Eigen
 * pooling, 150–640 µs a call at 8–10 images and 1.4–1.8 ms at 170 images of [32, 32, 8]).
 */
export function nativeAveragePoolKernels(original: Partial<Record<string, tf.KernelFunc>>): tf.KernelConfig[] {
  const fallback = fallbackTo(original);
  return [
    {
      kernelName: tf.AvgPool,
      backendName: 'tensorflow',
      kernelFunc: (args) => {
        const { x } = args.inputs as { x: tf.TensorInfo };
        const windows =
          x.dtype === 'float32' ? separateWindows(x.shape, args.attrs as unknown as PoolAttrs) : undefined;
        if (windows === undefined) return fallback(tf.AvgPool, args);
        const backend = args.backend as unknown as NativeBackend;
        return backend.executeSingleOutput(AVERAGE_POOL_OP, windowAttrs(backend, windows), [x]);
      },
    },
    {
      kernelName: tf.AvgPoolGrad,
      backendName: 'tensorflow',
      kernelFunc: (args) => {
        const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
        const attrs = args.attrs as unknown as PoolAttrs;
        const windows = dy.dtype === 'float32' ? separateWindows(input.shape, attrs) : undefined;
        if (windows === undefined) return fallback(tf.AvgPoolGrad, args);
        const backend = args.backend as unknown as NativeBackend;
        const shape = { name: 'input_shape', type: backend.binding.TF_ATTR_INT, value: input.shape };
        return backend.executeSingleOutput(AVERAGE_POOL_GRADIENT_OP, [...windowAttrs(backend, windows), shape], [dy]);
      },
    },
  ];
}
