import * as tf from '@tensorflow/tfjs-core';
import type { NativeBackend } from './native-backend';

/** The TensorFlow ops `packages/core/native/average-pool.cc` registers (in the oneDNN addon). */
export const AVERAGE_POOL_OP = 'MocoAvgPool';
export const AVERAGE_POOL_GRADIENT_OP = 'MocoAvgPoolGrad';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * The window [kh, kw] when tfjs's pooling attrs on an input of `shape` describe non-overlapping windows (window =
 * stride) with no padding — a ResNet's 2×2 downsampling — else undefined.
 */
function nonOverlappingWindow(shape: number[], attrs: PoolAttrs): [number, number] | undefined {
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
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const fits =
    top + bottom + left + right === 0 &&
    info.strideHeight === kh &&
    info.strideWidth === kw &&
    info.outHeight === Math.floor(shape[1]! / kh) &&
    info.outWidth === Math.floor(shape[2]! / kw);
  return fits ? [kh, kw] : undefined;
}

/**
 * The native CPU backend's `AvgPool` and `AvgPoolGrad` over non-overlapping windows with no padding on the addon's
 * ops (one pass over the tensor); any other pooling runs `original`'s kernel, tfjs-node's (TensorFlow's Eigen pooling,
 * 150–300 µs a call at 8 images and 1.4–1.8 ms at 170 images of [32, 32, 8]).
 */
export function nativeAveragePoolKernels(original: Partial<Record<string, tf.KernelFunc>>): tf.KernelConfig[] {
  const fallback = (name: string, args: Parameters<tf.KernelFunc>[0]) => {
    const kernel = original[name];
    if (kernel === undefined) throw new Error(`no ${name} kernel to fall back to on the native backend`);
    return kernel(args);
  };
  return [
    {
      kernelName: tf.AvgPool,
      backendName: 'tensorflow',
      kernelFunc: (args) => {
        const { x } = args.inputs as { x: tf.TensorInfo };
        const window =
          x.dtype === 'float32' ? nonOverlappingWindow(x.shape, args.attrs as unknown as PoolAttrs) : undefined;
        if (window === undefined) return fallback(tf.AvgPool, args);
        const backend = args.backend as unknown as NativeBackend;
        const ksize = { name: 'ksize', type: backend.binding.TF_ATTR_INT, value: window };
        return backend.executeSingleOutput(AVERAGE_POOL_OP, [ksize], [x]);
      },
    },
    {
      kernelName: tf.AvgPoolGrad,
      backendName: 'tensorflow',
      kernelFunc: (args) => {
        const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
        const attrs = args.attrs as unknown as PoolAttrs;
        const window = dy.dtype === 'float32' ? nonOverlappingWindow(input.shape, attrs) : undefined;
        if (window === undefined) return fallback(tf.AvgPoolGrad, args);
        const backend = args.backend as unknown as NativeBackend;
        const int = backend.binding.TF_ATTR_INT;
        return backend.executeSingleOutput(
          AVERAGE_POOL_GRADIENT_OP,
          [
            { name: 'ksize', type: int, value: window },
            { name: 'input_shape', type: int, value: input.shape },
          ],
          [dy],
        );
      },
    },
  ];
}
