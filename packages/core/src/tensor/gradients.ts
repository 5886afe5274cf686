import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedEnvironmentError } from '../errors/errors';

/**
 * Throws a clear error when tfjs's gradients are not registered: tfjs-core alone registers none
 * (`@tensorflow/tfjs-layers`, `@tensorflow/tfjs` and `selectBackend()` do). `caller` names the function.
 */
export function assertGradientsRegistered(caller: string): void {
  if (tf.getGradient('Sum') == null) {
    throw new UnsupportedEnvironmentError(
      `${caller} needs tfjs's gradient functions, which @tensorflow/tfjs-core alone does not register: import ` +
        `'@tensorflow/tfjs-layers' or '@tensorflow/tfjs', or call selectBackend() from @moco-robust/core, first.`,
    );
  }
}

/**
 * Registers tfjs's gradients by loading `@tensorflow/tfjs-layers` when it is installed; returns whether they are
 * registered.
 */
export async function registerGradients(): Promise<boolean> {
  if (tf.getGradient('Sum') != null) return true;
  try {
    // an optional peer: registers tfjs's gradients when installed
    await import(/* @vite-ignore */ '@tensorflow/tfjs-layers');
  } catch {
    // not installed: assertGradientsRegistered explains what to do when gradients are needed
  }
  return tf.getGradient('Sum') != null;
}
