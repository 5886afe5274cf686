import type * as tf from '@tensorflow/tfjs-core';
import { infoNce, InvalidArgumentError } from '@moco-robust/core';
import type { AttackOptions } from './attack-options';
import { DEFAULT_EPSILON } from './attack-settings';
import { checkImages } from './input-checks';
import { toForward, type ModelLikeForward } from './model-forward';
import { pgd } from './pgd';

/** The MoCo objective a label-free attack ascends. */
export interface MocoObjective {
  /** Query encoder (+ projection head): images → query embeddings [N, d]. */
  query: ModelLikeForward;
  /** Keys of the second view from the momentum encoder, [N, d]: computed once per batch, constant during the attack. */
  keys: tf.Tensor2D;
  /** Queue of negative keys [K, d], L2-normalised. */
  queue: tf.Tensor2D;
  /** InfoNCE temperature; default 0.2 (MoCo-v2's CIFAR setting; 0.1 for v1). */
  temperature?: number;
  /** Batch-norm mode of a `LayersModel` query encoder while crafting; default false (inference). */
  training?: boolean;
}

/** Per-example MoCo InfoNCE loss of `query(xAdv)` against `keys` and `queue`: the label-free attack objective. */
export function mocoLoss(objective: MocoObjective): (xAdv: tf.Tensor4D) => tf.Tensor1D {
  const forward = toForward(objective.query, 'objective.query', objective.training ?? false);
  const temperature = objective.temperature ?? 0.2;
  if (!(temperature > 0))
    throw new InvalidArgumentError({
      argument: 'objective.temperature',
      expected: 'a number > 0',
      received: temperature,
    });
  for (const [name, t] of [
    ['objective.keys', objective.keys],
    ['objective.queue', objective.queue],
  ] as const) {
    if (t?.rank !== 2)
      throw new InvalidArgumentError({ argument: name, expected: 'a 2-D tensor [rows, d]', received: t });
  }
  if (objective.keys.shape[1] !== objective.queue.shape[1]) {
    throw new InvalidArgumentError({
      argument: 'objective.queue',
      expected: `width d = ${objective.keys.shape[1]} like the keys`,
      received: objective.queue,
    });
  }
  return (xAdv) => infoNce(forward(xAdv), objective.keys, objective.queue, temperature);
}

/**
 * MoCo-PGD, the paper's label-free attack: from a uniform random point of the ε-ball around the
 * query view `x`, `steps` sign-gradient ascent steps on the MoCo InfoNCE loss of `query(xAdv)`
 * against its clean key and the queue of negatives, projected to the ε-ball and [0, 1]. No label
 * anywhere. Defaults: ε 8/255, step 2/255 (the paper uses 8/255: pass `stepSize`), 10 steps.
 */
export function mocoPgd(
  objective: MocoObjective,
  x: tf.Tensor4D,
  options: Omit<AttackOptions, 'earlyStop'> = {},
): tf.Tensor4D {
  checkBatch(objective, x);
  return pgd(mocoLoss(objective), x, { randomStart: true, ...options });
}

/** MoCo-FGSM: one label-free step of size ε on the MoCo InfoNCE loss, no random start. Default ε 8/255. */
export function mocoFgsm(
  objective: MocoObjective,
  x: tf.Tensor4D,
  options: Pick<AttackOptions, 'epsilon' | 'norm'> = {},
): tf.Tensor4D {
  checkBatch(objective, x);
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  return pgd(mocoLoss(objective), x, { epsilon, stepSize: epsilon, steps: 1, randomStart: false, norm: options.norm });
}

function checkBatch(objective: MocoObjective, x: tf.Tensor4D): void {
  checkImages(x);
  if (objective?.keys?.shape?.[0] !== x?.shape?.[0]) {
    throw new InvalidArgumentError({
      argument: 'objective.keys',
      expected: `one key per image: [${x?.shape?.[0]}, d]`,
      received: objective?.keys,
    });
  }
}
