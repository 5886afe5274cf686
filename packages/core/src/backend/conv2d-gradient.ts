import * as tf from '@tensorflow/tfjs-core';

type Pair = [number, number];

/** The rotated filters of the innermost {@link withConstantWeights} call, by the filter's data; absent outside one. */
let rotatedFilters: Map<object, tf.Tensor4D> | undefined;

/**
 * Runs `fn`, promising that no weight changes while it runs (an attack's steps: many gradients of one model), so that
 * gradient kernels may compute a transform of a weight once and reuse it: the native `Conv2D` input gradient's filter
 * rotated by 180° with its channels swapped (a `Reverse` and a `Transpose` of every filter on every step, ≈6 % of a
 * PGD step) is computed on the first step and kept until `fn` returns, then disposed — no tensor outlives the call.
 * The cache is keyed by the filter's data, so a weight that does change (a new tensor, or a variable assigned new
 * values) is rotated again rather than read stale. Nested calls share the outermost one's cache. `fn` must be
 * synchronous (its tensors are read before it returns).
 */
export function withConstantWeights<T>(fn: () => T): T {
  if (rotatedFilters) return fn();
  rotatedFilters = new Map();
  try {
    return fn();
  } finally {
    for (const filter of rotatedFilters.values()) filter.dispose();
    rotatedFilters = undefined;
  }
}

/** `filter` [kh, kw, in, out] rotated by 180° with its channels swapped: [kh, kw, out, in]; cached in an attack. */
function rotatedFilter(filter: tf.Tensor4D): tf.Tensor4D {
  const rotate = () => tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  if (!rotatedFilters) return rotate();
  let rotated = rotatedFilters.get(filter.dataId);
  if (!rotated) {
    rotated = tf.keep(rotate());
    rotatedFilters.set(filter.dataId, rotated);
  }
  return rotated;
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

/**
 * The gradient of `Conv2D` with the input gradient computed as a forward convolution where that is exact
 * ({@link inputGradientIsConvolution}) on the native backend: `dx = conv2d(dy, rot180(W)ᵀ, 1, 'same')`. TensorFlow's
 * `Conv2DBackpropInput` on the CPU runs at about 0.6× its forward convolution's speed on ResNet shapes (≈0.25× at
 * 4×4 512→512), while the forward convolution goes through oneDNN's fastest path; the input gradient is what every
 * attack step pays for each convolution. The filter gradient, and the input gradient elsewhere (strided convolutions,
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
      x: () =>
        tf.getBackend() === 'tensorflow' &&
        inputGradientIsConvolution(filter.shape, { strides, dilations, pad, dataFormat })
          ? tf.conv2d(gradient, rotatedFilter(filter), 1, 'same', 'NHWC')
          : (tf.engine().runKernel('Conv2DBackpropInput', { dy: gradient, filter }, {
              ...backpropAttrs,
              inputShape: x.shape,
            } as unknown as tf.NamedAttrMap) as tf.Tensor4D),
      filter: () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: gradient }, {
          ...backpropAttrs,
          filterShape: filter.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor4D,
    };
  },
};
