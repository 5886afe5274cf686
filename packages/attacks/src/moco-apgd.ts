import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@moco-robust/core';
import { apgd, type ApgdOptions } from './apgd';
import { checkImages } from './input-checks';
import { mocoLoss, type MocoObjective } from './moco-pgd';

/**
 * MoCo-APGD: label-free Auto-PGD (Croce & Hein 2020) on the MoCo InfoNCE loss of `query(xAdv)`
 * against its clean key and the queue of negatives — {@link apgd}'s step-size schedule instead of
 * MoCo-PGD's fixed step, so no step size to tune. No label anywhere; returns the highest-loss point
 * per example. Defaults: ε 8/255, 100 iterations (10–20 are enough to craft training batches), L∞.
 */
export function mocoApgd(
  objective: MocoObjective,
  x: tf.Tensor4D,
  options: Omit<ApgdOptions, 'onCheckpoint'> = {},
): tf.Tensor4D {
  checkImages(x);
  if (objective?.keys?.shape?.[0] !== x?.shape?.[0]) {
    throw new InvalidArgumentError({
      argument: 'objective.keys',
      expected: `one key per image: [${x?.shape?.[0]}, d]`,
      received: objective?.keys,
    });
  }
  return apgd(mocoLoss(objective), x, options);
}
