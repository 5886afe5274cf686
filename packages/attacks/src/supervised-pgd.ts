import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy } from '@moco-robust/core';
import type { AttackOptions } from './attack-options';
import { checkAttackInputs } from './input-checks';
import { toForward, type ModelLikeForward } from './model-forward';
import { pgd } from './pgd';

/** Options of the label attacks ({@link supervisedPgd}, `fgsm`). */
export interface LabelAttackOptions extends Omit<AttackOptions, 'earlyStop'> {
  /** Move towards the class `y` instead of away from it (minimise its cross-entropy). Default false. */
  targeted?: boolean;
  /** Stop moving an example once it is misclassified (targeted: classified as `y`). Default false. */
  earlyStop?: boolean;
  /** Batch-norm/dropout mode of a `LayersModel` while attacking; default false (inference, as in evaluation). */
  training?: boolean;
}

/** Per-example cross-entropy of the model's logits (negated when targeted): the label attacks' objective. */
export function labelLoss(
  model: ModelLikeForward,
  y: tf.Tensor1D,
  options: { targeted?: boolean; training?: boolean } = {},
): (x: tf.Tensor4D) => tf.Tensor1D {
  const forward = toForward(model, 'model', options.training ?? false);
  return (x) =>
    tf.tidy(() => {
      const loss = crossEntropy(forward(x), y); // [N]
      return options.targeted ? tf.neg(loss) : loss;
    });
}

/**
 * Supervised PGD (Madry et al., ICLR 2018) on a classifier's cross-entropy: the standard robust
 * evaluation attack. Defaults: L∞, ε 8/255, step 2/255, 10 steps (use 20 for PGD-20), random start, 1 restart.
 */
export function supervisedPgd(
  model: ModelLikeForward,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: LabelAttackOptions = {},
): tf.Tensor4D {
  checkAttackInputs(x, { y, model });
  const forward = toForward(model, 'model', options.training ?? false);
  const earlyStop = options.earlyStop
    ? (xAdv: tf.Tensor4D) =>
        tf.tidy(() => {
          const predicted = tf.argMax(forward(xAdv), 1);
          return options.targeted ? tf.equal(predicted, y) : tf.notEqual(predicted, y);
        })
    : undefined;
  return pgd(labelLoss(model, y, options), x, { ...options, earlyStop });
}
