import * as tf from '@tensorflow/tfjs-core';
import { constantTransform } from './constant-weights';

type Pair = [number, number];

/** `transform(filter)`, computed once per `kind` and filter inside `withConstantWeights`, else every call. */
function transformedFilter(filter: tf.Tensor4D, kind: string, transform: () => tf.Tensor4D[]): tf.Tensor4D[] {
  return constantTransform(kind, [filter], transform);
}

/** `filter` [kh, kw, in, out] rotated by 180° with its channels swapped: [kh, kw, out, in]; cached in an attack. */
function rotatedFilter(filter: tf.Tensor4D): tf.Tensor4D {
  return transformedFilter(filter, 'rotated', () => [
    tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D,
  ])[0]!;
}

/**
 * The four phase filters of a 3×3 stride-2 `'same'` convolution's input gradient on an even-sized input
 * (TensorFlow pads it 0 before, 1 after): input row `2i` receives taps 0 and 2 (from output rows `i` and `i − 1`),
 * row `2i + 1` tap 1 (from row `i`), and likewise for columns. Phase (a, b)'s filter holds those taps, the one
 * reaching back first, with the channels swapped: [1 or 2, 1 or 2, out, in], in the order (0, 0), (0, 1), (1, 0),
 * (1, 1).
 */
function phaseFilters(filter: tf.Tensor4D): tf.Tensor4D[] {
  return transformedFilter(filter, 'phases', () =>
    tf.tidy(() => {
      const swapped = tf.transpose(filter, [0, 1, 3, 2]);
      const [, , out, inChannels] = swapped.shape as number[];
      const taps = (parity: number) => (parity === 0 ? [2, 0] : [1]);
      const tap = (r: number, c: number) =>
        tf.reshape(tf.slice(swapped, [r, c, 0, 0], [1, 1, out!, inChannels!]), [out!, inChannels!]);
      return [0, 1].flatMap((a) =>
        [0, 1].map((b) => tf.stack(taps(a).map((r) => tf.stack(taps(b).map((c) => tap(r, c))))) as tf.Tensor4D),
      );
    }),
  );
}

const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

/**
 * Whether the input gradient of a convolution is itself a stride-1 `'same'` convolution of `dy` with the filter
 * rotated by 180° and its channels swapped: stride 1, no dilation, NHWC, and either `'same'` padding with odd kernel
 * sizes (the padding is symmetric) or a 1×1 kernel.
 */
export function inputGradientIsConvolution(
  filterShape: readonly number[],
  attrs: { strides: number | Pair; dilations: number | Pair; pad: unknown; dataFormat?: string },
): boolean {
  const [kh, kw] = filterShape;
  const [sh, sw] = pair(attrs.strides);
  const [dh, dw] = pair(attrs.dilations ?? 1);
  if (sh !== 1 || sw !== 1 || dh !== 1 || dw !== 1 || (attrs.dataFormat ?? 'NHWC') !== 'NHWC') return false;
  if (kh === 1 && kw === 1) return attrs.pad === 'same' || attrs.pad === 'valid' || attrs.pad === 0;
  return attrs.pad === 'same' && kh! % 2 === 1 && kw! % 2 === 1;
}

/** Whether the input gradient runs as four stride-1 phase convolutions: 3×3, stride 2, `'same'`, NHWC, even input. */
export function inputGradientByPhases(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: { strides: number | Pair; dilations: number | Pair; pad: unknown; dataFormat?: string },
): boolean {
  const [sh, sw] = pair(attrs.strides);
  const [dh, dw] = pair(attrs.dilations ?? 1);
  return (
    sh === 2 &&
    sw === 2 &&
    dh === 1 &&
    dw === 1 &&
    (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
    attrs.pad === 'same' &&
    filterShape[0] === 3 &&
    filterShape[1] === 3 &&
    inputShape[1]! % 2 === 0 &&
    inputShape[2]! % 2 === 0
  );
}

/**
 * The input gradient of a 3×3 stride-2 `'same'` convolution ({@link inputGradientByPhases}) as one stride-1
 * convolution of `dy` per output phase with that phase's taps ({@link phaseFilters}), interleaved by `depthToSpace`:
 * the same multiply-adds as the forward convolution, none spent on the stride's zeros. TensorFlow's
 * `Conv2DBackpropInput` on these shapes takes 1.1× (64→128 at 32×32) to 3.2× (256→512 at 8×8) the phases' time.
 */
function inputGradientByPhaseConvolutions(dy: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  const filters = phaseFilters(filter);
  return tf.tidy(() => {
    const phases = filters.map((f) => {
      const [kh, kw] = f.shape;
      // padded by the convolution itself (explicit padding), not by a pass of its own
      return tf.conv2d(
        dy,
        f,
        1,
        [
          [0, 0],
          [kh - 1, 0],
          [kw - 1, 0],
          [0, 0],
        ],
        'NHWC',
      );
    });
    return tf.depthToSpace(tf.concat(phases, 3) as tf.Tensor4D, 2, 'NHWC');
  });
}

/**
 * The input gradient of a convolution of an input of `inputShape` as forward convolutions of `dy` — with the rotated
 * filter ({@link inputGradientIsConvolution}) or by phases ({@link inputGradientByPhases}) — or `undefined` where
 * neither is exact.
 */
export function inputGradientAsForwardConvolution(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: readonly number[],
  attrs: { strides: number | Pair; dilations: number | Pair; pad: unknown; dataFormat?: string },
): tf.Tensor4D | undefined {
  if (inputGradientIsConvolution(filter.shape, attrs)) return tf.conv2d(dy, rotatedFilter(filter), 1, 'same', 'NHWC');
  if (inputGradientByPhases(inputShape, filter.shape, attrs)) return inputGradientByPhaseConvolutions(dy, filter);
  return undefined;
}

/**
 * The gradient of `Conv2D` with the input gradient computed as a forward convolution where that is exact
 * ({@link inputGradientIsConvolution}) on the native backend: `dx = conv2d(dy, rot180(W)ᵀ, 1, 'same')`. TensorFlow's
 * `Conv2DBackpropInput` on the CPU runs at about 0.6× its forward convolution's speed on ResNet shapes (≈0.25× at
 * 4×4 512→512), while the forward convolution goes through oneDNN's fastest path; the input gradient is what every
 * attack step pays for each convolution. A 3×3 stride-2 convolution's input gradient runs as four phase convolutions
 * ({@link inputGradientByPhases}). The filter gradient, and the input gradient elsewhere (other strided convolutions,
 * other backends), are tfjs-core's kernels, as in its own gradient — so the registration is correct after a backend
 * switch (gradients are global). Equal to tfjs-core's up to float32 summation order.
 */
export const conv2dGradient: tf.GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const gradient = dy as tf.Tensor4D;
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
    const [dh, dw] = pair(dilations ?? 1);
    if (dh !== 1 || dw !== 1)
      throw new Error(
        `Error in gradient of conv2D: dilation rates greater than 1 are not yet supported in gradients. ` +
          `Got dilations '${dilations}'`,
      );
    const backpropAttrs = { strides, pad, dataFormat, dimRoundingMode };
    return {
      x: () => {
        const native = tf.getBackend() === 'tensorflow';
        const geometry = { strides, dilations, pad, dataFormat };
        const asForward = native ? inputGradientAsForwardConvolution(gradient, filter, x.shape, geometry) : undefined;
        if (asForward !== undefined) return asForward;
        return tf.engine().runKernel('Conv2DBackpropInput', { dy: gradient, filter }, {
          ...backpropAttrs,
          inputShape: x.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
      },
      filter: () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: gradient }, {
          ...backpropAttrs,
          filterShape: filter.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor4D,
    };
  },
};
