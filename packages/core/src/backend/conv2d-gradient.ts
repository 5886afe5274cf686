import * as tf from '@tensorflow/tfjs-core';

type Pair = [number, number];
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
          ? tf.conv2d(gradient, tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]), 1, 'same', 'NHWC')
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
