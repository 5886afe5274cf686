import * as tf from '@tensorflow/tfjs-core';
import { batchNormFactor } from './batch-norm-gradient';
import { constantTransform, weightsAreConstant } from './constant-weights';
import { conv2dGradient } from './conv2d-gradient';
import { reluGradientAt } from './node-relu-gradient';

/**
 * moco-robust's kernel for a convolution followed by a per-output-channel affine map and optionally a ReLU:
 * `y = conv(x, filter)·scale + shift` (then `max(y, 0)` with `relu`) — an inference-mode batch-norm (and its ReLU)
 * after a convolution, in one pass. The native CPU backend has it when its oneDNN convolutions are built (the scale
 * folded into the filter, the shift as the convolution's bias, the ReLU a post-op), and wasm once `selectBackend` has
 * registered its training kernels (the same fold, on XNNPACK's fused convolution); see {@link convAffineAvailable}.
 */
export const CONV_AFFINE_KERNEL = 'MocoRobustConv2DAffine';

/** The convolution's geometry, as tfjs's `conv2d` takes it (NHWC). */
export interface ConvAffineAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid';
  dilations: number | [number, number];
  relu: boolean;
}

/**
 * Whether the active backend runs {@link convAffine}: the native CPU backend with oneDNN's convolutions; wasm
 * inside `withConstantWeights` (an attack, or a model's inference pass, whose transforms a `WeightTransformCache`
 * keeps for the next one), where its folded filter is made once — XNNPACK packs every new filter on its first use,
 * so a fold made on each call costs what the batch-norm's pass saves.
 */
export function convAffineAvailable(): boolean {
  const backend = tf.getBackend();
  if (tf.getKernel(CONV_AFFINE_KERNEL, backend) === undefined) return false;
  return backend !== 'wasm' || weightsAreConstant();
}

/**
 * `conv(x, filter)·scale + shift (+ residual)`, then `max(·, 0)` if `attrs.relu`, on the {@link CONV_AFFINE_KERNEL}
 * kernel (check {@link convAffineAvailable} first). `scale` and `shift` are [C] for the filter's C output channels;
 * `residual`, if given, has the output's shape (a ResNet block's shortcut). Its gradient is computed only for the
 * inputs backpropagation asks for; the input's goes through the convolution's registered gradient.
 */
export function convAffine(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  scale: tf.Tensor1D,
  shift: tf.Tensor1D,
  attrs: ConvAffineAttrs,
  residual?: tf.Tensor4D,
): tf.Tensor4D {
  const inputs: tf.NamedTensorMap =
    residual === undefined ? { x, filter, scale, shift } : { x, filter, scale, shift, residual };
  return tf.engine().runKernel(CONV_AFFINE_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * An inference-mode batch-norm `(x − μ)·γ/√(σ² + ε) + β` as the per-channel map `x·factor + shift`:
 * factor = γ/√(σ² + ε), shift = β − μ·factor (+ `bias`·factor, for a convolution's bias before it). Inside
 * `withConstantWeights` (an attack) computed once per weights, else on every call.
 */
export function batchNormAffine(
  statistics: { mean: tf.Tensor; variance: tf.Tensor; scale?: tf.Tensor; offset?: tf.Tensor; bias?: tf.Tensor },
  epsilon: number,
): [factor: tf.Tensor, shift: tf.Tensor] {
  const { mean, variance, scale, offset, bias } = statistics;
  const factor = batchNormFactor(variance, scale, epsilon);
  const [shift] = constantTransform(`batch-norm-shift:${epsilon}`, [mean, variance, scale, offset, bias], () => [
    tf.tidy(() => {
      const centre = bias == null ? tf.neg(mean) : tf.sub(bias, mean);
      return offset == null ? tf.mul(centre, factor) : tf.add(offset, tf.mul(centre, factor));
    }),
  ]);
  return [factor, shift!];
}

/**
 * `filter·scale` per output channel — the batch-norm's scale folded into the convolution's filter — made once per
 * weights inside `withConstantWeights` (an attack), where a kernel that folds it (wasm's) and the gradient's input
 * path read the same cached tensor; else made on each call (the caller's scope owns it).
 */
export function scaledFilter(filter: tf.Tensor4D, scale: tf.Tensor1D): tf.Tensor4D {
  const [folded] = constantTransform('conv-affine-scaled-filter', [filter, scale], () => [tf.mul(filter, scale)]);
  return folded as tf.Tensor4D;
}

/**
 * The gradient of {@link CONV_AFFINE_KERNEL}. With g = dy·(y > 0) (dy without the ReLU; ∂residual): ∂filter is the
 * convolution's filter gradient at g·scale, ∂x its input gradient at g with the filter scaled per output channel
 * (through `conv2dGradient`, so an attack's input gradient runs cached rotated or phase filters of the scaled
 * filter), ∂shift = Σ g and ∂scale = Σ g·conv(x, filter) over N, H, W (the convolution recomputed only then).
 */
export const convAffineGradient: tf.GradConfig = {
  kernelName: CONV_AFFINE_KERNEL,
  inputsToSave: ['x', 'filter', 'scale'],
  outputsToSave: [true],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, filter, scale, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D];
    const { strides, pad, dilations, relu } = attrs as unknown as ConvAffineAttrs;
    // computed once and shared by every input asked for (moco-robust's backward pass frees it after this node)
    const g = relu ? (reluGradientAt(dy as tf.Tensor, y) as tf.Tensor4D) : (dy as tf.Tensor4D);
    const convAttrs = { strides, pad, dilations, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
    const gradient = (at: tf.Tensor4D, w: tf.Tensor4D, name: 'x' | 'filter') =>
      (conv2dGradient.gradFunc(at, [x, w], convAttrs) as Record<string, () => tf.Tensor>)[name]!();
    const convolution = (name: 'x' | 'filter') => () =>
      tf.tidy(() => {
        // ∂x of conv(x, filter)·scale is ∂x of conv(x, filter·scale): in an attack the scaled filter (and the
        // rotated or phase filters made from it) is computed once, and each step skips a full-size multiply of g
        if (name === 'x' && (weightsAreConstant() || filter.size < g.size)) {
          return gradient(g, scaledFilter(filter, scale), 'x');
        }
        return gradient(tf.mul(g, scale), filter, name);
      });
    return {
      x: convolution('x'),
      filter: convolution('filter'),
      shift: () => tf.sum(g, [0, 1, 2]),
      scale: () => tf.tidy(() => tf.sum(tf.mul(g, tf.conv2d(x, filter, strides, pad, 'NHWC', dilations)), [0, 1, 2])),
      residual: () => g,
    };
  },
};

/**
 * tfjs-layers' `Dense` on a rank-4 input — `x·kernel + bias` at every position of x [N, H, W, C], then
 * `max(·, 0)` if `relu` — as one 1×1 {@link convAffine} (check {@link convAffineAvailable} first): the kernel
 * [C, units] as a [1, 1, C, units] filter with a unit scale, made once per attack inside `withConstantWeights`. A
 * model's input normalisation (moco-robust's ResNets: a frozen 3-unit `Dense`) ran as a reshape and a matrix product
 * of N·H·W rows of 3, on TensorFlow 4× slower than the convolution (0.56 against 0.14 ms at 8 images, 1.85 against
 * 0.41 at 170).
 */
export function denseAffine(
  x: tf.Tensor4D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D | undefined,
  relu: boolean,
): tf.Tensor4D {
  const [inputs, units] = kernel.shape;
  const [filter, scale, zeros] = constantTransform<tf.Tensor>('dense-affine', [kernel], () => [
    tf.reshape(kernel, [1, 1, inputs, units]),
    tf.ones([units]),
    tf.zeros([units]),
  ]);
  const attrs = { strides: 1, pad: 'valid', dilations: 1, relu } as const;
  return convAffine(x, filter as tf.Tensor4D, scale as tf.Tensor1D, bias ?? (zeros as tf.Tensor1D), attrs);
}
