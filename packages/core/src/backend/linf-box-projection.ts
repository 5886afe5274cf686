import * as tf from '@tensorflow/tfjs-core';
import type { NativeBackend } from './native-backend';

/**
 * moco-robust's kernel for FAB's projection step (`linfHyperplaneBoxProjection` in `@moco-robust/attacks`): inputs
 * `points` [n, D], `w` [n, D], `b` [n]; output the L∞-smallest step [n, D] putting each row on its hyperplane
 * `w·z = b` within the box [0, 1]ᴰ (else the step to the box corner closest to it). The native CPU backend has it
 * when its oneDNN convolutions are built (the op `MocoLinfBoxProjection` lives in the same addon); see
 * {@link linfBoxProjectionAvailable}.
 */
export const LINF_BOX_PROJECTION_KERNEL = 'MocoRobustLinfBoxProjection';

/** The TensorFlow op `packages/core/native/linf-box-projection.cc` registers. */
export const LINF_BOX_PROJECTION_OP = 'MocoLinfBoxProjection';

/** Whether the active backend runs {@link linfBoxProjection} as one kernel (the native CPU backend with its addon). */
export function linfBoxProjectionAvailable(): boolean {
  return tf.getKernel(LINF_BOX_PROJECTION_KERNEL, tf.getBackend()) !== undefined;
}

/**
 * FAB's projection step in one kernel (check {@link linfBoxProjectionAvailable} first): for each row of `points`, the
 * smallest step in L∞ onto `w·z = b` within [0, 1]ᴰ, solved exactly per row. Not differentiable (FAB never asks).
 */
export function linfBoxProjection(points: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.engine().runKernel(LINF_BOX_PROJECTION_KERNEL, { points, w, b }) as tf.Tensor2D;
}

/** The `tensorflow` backend's kernel for {@link LINF_BOX_PROJECTION_KERNEL}: the addon's op. */
export const nativeLinfBoxProjectionKernel: tf.KernelConfig = {
  kernelName: LINF_BOX_PROJECTION_KERNEL,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, backend }) => {
    const { points, w, b } = inputs as { points: tf.TensorInfo; w: tf.TensorInfo; b: tf.TensorInfo };
    return (backend as unknown as NativeBackend).executeSingleOutput(LINF_BOX_PROJECTION_OP, [], [points, w, b]);
  },
};
