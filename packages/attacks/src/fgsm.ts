import type * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_EPSILON } from './attack-settings';
import { checkAttackInputs } from './input-checks';
import type { ModelLikeForward } from './model-forward';
import { pgd } from './pgd';
import { labelLoss, type LabelAttackOptions } from './supervised-pgd';

/**
 * Fast Gradient Sign Method (Goodfellow et al., ICLR 2015): one step `x + ε·sign(∇x CE)` clipped to
 * [0, 1], no random start. Default ε 8/255 (the paper's FGSM evaluation uses ε = 10/255).
 */
export function fgsm(
  model: ModelLikeForward,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: Pick<LabelAttackOptions, 'epsilon' | 'targeted' | 'training' | 'norm'> = {},
): tf.Tensor4D {
  checkAttackInputs(x, { y, model });
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  return pgd(labelLoss(model, y, options), x, {
    epsilon,
    stepSize: epsilon,
    steps: 1,
    randomStart: false,
    norm: options.norm,
  });
}
