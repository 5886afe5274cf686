import type * as tf from '@tensorflow/tfjs-core';

/** The slice of tfjs-node's `NodeJSKernelBackend` moco-robust's native kernels use to run TensorFlow ops by name. */
export interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_INT: number; TF_ATTR_BOOL: number; TF_FLOAT: number };
  /**
   * Runs TensorFlow op `name`. Returns a tensor the engine already tracks: a kernel returns it as is, and must not wrap
   * it again (`makeTensorFromTensorInfo`) — two tensors on one buffer, and disposing either frees the other's data.
   */
  executeSingleOutput(
    name: string,
    attributes: Array<{ name: string; type: number; value: unknown }>,
    inputs: tf.TensorInfo[],
  ): tf.Tensor;
  applyActivation<T extends tf.Tensor>(
    input: T,
    activation: string,
    preluActivationWeights?: tf.Tensor,
    leakyreluAlpha?: number,
  ): T;
}
