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

/**
 * Runs tfjs-node's own kernel `name`, kept in `original` before moco-robust's replaced it, for the calls moco-robust's
 * kernels do not cover (another layout, dtype or geometry); throws if there was none.
 */
export function fallbackTo(original: Partial<Record<string, tf.KernelFunc>>) {
  return (name: string, args: Parameters<tf.KernelFunc>[0]): ReturnType<tf.KernelFunc> => {
    const kernel = original[name];
    if (kernel === undefined) throw new Error(`no ${name} kernel to fall back to on the native backend`);
    return kernel(args);
  };
}
