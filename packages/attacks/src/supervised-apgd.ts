import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, InvalidArgumentError } from '@moco-robust/core';
import { apgd, type ApgdObjective, type ApgdOptions } from './apgd';
import { dlrLoss } from './dlr-loss';
import { checkAttackInputs } from './input-checks';
import { toForward, type ModelLikeForward } from './model-forward';

/** Options of {@link supervisedApgd}. */
export interface SupervisedApgdOptions extends Omit<ApgdOptions, 'onCheckpoint'> {
  /** `ce` (APGD-CE, AutoAttack's first attack) or `dlr` (APGD-DLR); default `ce`. */
  loss?: 'ce' | 'dlr';
  /** Batch-norm/dropout mode of a `LayersModel` while attacking; default false (inference). */
  training?: boolean;
}

/**
 * The label objective of APGD: per-example cross-entropy or DLR of the model's logits, with success
 * (misclassified) read from the same forward pass.
 */
export function apgdLabelObjective(
  model: ModelLikeForward,
  y: tf.Tensor1D,
  options: { loss?: 'ce' | 'dlr'; training?: boolean } = {},
): ApgdObjective {
  const loss = options.loss ?? 'ce';
  if (loss !== 'ce' && loss !== 'dlr')
    throw new InvalidArgumentError({ argument: 'loss', expected: "'ce' or 'dlr'", received: loss });
  const forward = toForward(model, 'model', options.training ?? false);
  return (xAdv) => {
    const logits = forward(xAdv); // [N, C]
    return {
      loss: loss === 'ce' ? crossEntropy(logits, y) : dlrLoss(logits, y),
      success: tf.notEqual(tf.argMax(logits, 1), y) as tf.Tensor1D,
    };
  };
}

/**
 * APGD-CE / APGD-DLR (Croce & Hein, ICML 2020): {@link apgd} on a classifier's cross-entropy or DLR
 * loss, returning for each example the last misclassified iterate found, else its highest-loss point.
 * Defaults: ε 8/255, 100 steps, 1 restart, L∞, cross-entropy, inference mode.
 */
export function supervisedApgd(
  model: ModelLikeForward,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: SupervisedApgdOptions = {},
): tf.Tensor4D {
  checkAttackInputs(x, { y, model });
  const { loss, training, ...rest } = options;
  return apgd(apgdLabelObjective(model, y, { loss, training }), x, rest);
}
