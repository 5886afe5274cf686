import * as tf from '@tensorflow/tfjs-core';
import type { NativeBackend } from './native-backend';

/**
 * moco-robust's kernel name for TensorFlow's `ReluGrad` op (`dy · (x > 0)` in one pass; given the
 * ReLU's output as x, which is positive exactly where its input is), registered on the native
 * backend.
 */
export const RELU_GRAD_KERNEL = 'MocoRobustReluGrad';

/** The `tensorflow` backend's kernel for {@link RELU_GRAD_KERNEL}: TensorFlow's own `ReluGrad` op. */
export const nativeReluGradKernel: tf.KernelConfig = {
  kernelName: RELU_GRAD_KERNEL,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, backend }) => {
    const native = backend as unknown as NativeBackend;
    const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
    return native.executeSingleOutput(
      'ReluGrad',
      [{ name: 'T', type: native.binding.TF_ATTR_TYPE, value: native.binding.TF_FLOAT }],
      [dy, x],
    );
  },
};

/**
 * The gradient of `Relu`: `dy · (y > 0)` as one kernel where the backend has {@link RELU_GRAD_KERNEL}
 * (the native one), instead of tfjs-core's `dy · cast(step(x))` — on tfjs-node `step` alone runs six
 * full-size kernels (isNaN, greater, two fills, two selects). Elsewhere it is tfjs-core's formula.
 * It keeps the output y = max(x, 0) instead of the input (y > 0 exactly where x > 0, as PyTorch's in-place
 * ReLU does): the output is kept anyway by the next layer's gradient, so the input — a batch-norm's or a residual
 * sum's output — can be freed as soon as the forward pass has used it.
 * Equal to tfjs-core's for every finite `x` (a NaN input gives 0 here, NaN there).
 */
export const reluGradient: tf.GradConfig = {
  kernelName: 'Relu',
  outputsToSave: [true],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const gradient = dy as tf.Tensor;
    const [y] = saved;
    return { x: () => reluGradientAt(gradient, y!) };
  },
};

/**
 * `dy · (y > 0)` for a ReLU's output y: one {@link RELU_GRAD_KERNEL} where the backend has it (the native one), else
 * tfjs-core's formula.
 */
export function reluGradientAt(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.getKernel(RELU_GRAD_KERNEL, tf.getBackend()) !== undefined
    ? (tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, x: y }, {}) as tf.Tensor)
    : tf.mul(dy, tf.cast(tf.step(tf.cast(y, 'float32')), 'float32'));
}
