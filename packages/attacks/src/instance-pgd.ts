import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ntXent } from '@moco-robust/core';
import type { AttackOptions } from './attack-options';
import { DEFAULT_EPSILON } from './attack-settings';
import { checkImages } from './input-checks';
import { toForward, type ModelLikeForward } from './model-forward';
import { pgd } from './pgd';

/** The instance-discrimination objective of RoCL's attack. */
export interface InstanceObjective {
  /** Encoder + projector: images → embeddings [N, d]. */
  embed: ModelLikeForward;
  /** Embeddings of the positive (other) view of each image, [N, d], constant during the attack. */
  positives: tf.Tensor2D;
  /** NT-Xent temperature; default 0.5 (RoCL). */
  temperature?: number;
  /** Batch-norm mode of a `LayersModel` while crafting; default false. */
  training?: boolean;
}

/**
 * Label-free instance-wise attack (Kim et al., RoCL, NeurIPS 2020): PGD that maximises the SimCLR
 * NT-Xent loss of the perturbed view against the positive views, every other image of the batch
 * being a negative. The per-example objective adds the loss of the perturbed anchor and of its
 * positive anchor. RoCL's defaults: ε 8/255, step 0.007, 7 steps, random start.
 */
export function instancePgd(
  objective: InstanceObjective,
  x: tf.Tensor4D,
  options: Omit<AttackOptions, 'earlyStop'> = {},
): tf.Tensor4D {
  checkImages(x);
  const n = x.shape[0];
  if (objective?.positives?.rank !== 2 || objective.positives.shape[0] !== n) {
    throw new InvalidArgumentError({
      argument: 'objective.positives',
      expected: `embeddings of the other view [${n}, d]`,
      received: objective?.positives,
    });
  }
  const forward = toForward(objective.embed, 'objective.embed', objective.training ?? false);
  const temperature = objective.temperature ?? 0.5;
  const loss = (xAdv: tf.Tensor4D) =>
    tf.tidy(() => {
      const perAnchor = ntXent(forward(xAdv), objective.positives, temperature); // [2N]
      return tf.add(tf.slice(perAnchor, [0], [n]), tf.slice(perAnchor, [n], [n])) as tf.Tensor1D; // [N]
    });
  return pgd(loss, x, { epsilon: DEFAULT_EPSILON, stepSize: 0.007, steps: 7, randomStart: true, ...options });
}
