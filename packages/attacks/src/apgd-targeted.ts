import * as tf from '@tensorflow/tfjs-core';
import { assertGradientsRegistered, toRng } from '@moco-robust/core';
import { apgdWithDetails, type ApgdOptions } from './apgd';
import { cleanRanking, targetBatch } from './clean-ranking';
import { targetedDlrLoss } from './dlr-loss';
import { checkAttackInputs } from './input-checks';
import { toForward, type ModelLikeForward } from './model-forward';
import { gatherRows, indicesWhere, replaceRows } from './rows';

/** Options of {@link apgdTargeted}. */
export interface ApgdTargetedOptions extends Omit<ApgdOptions, 'onCheckpoint'> {
  /** Target classes tried in turn: the 2nd, 3rd, … highest clean logits; default 9 (AutoAttack's). */
  targets?: number;
  /** Batch-norm/dropout mode of a `LayersModel` while attacking; default false (inference). */
  training?: boolean;
}

/**
 * APGD-T (Croce & Hein, ICML 2020): for each of the `targets` classes with the highest clean logits
 * after the top one, {@link apgd} on the targeted DLR loss towards that class, run only on the
 * examples no earlier target has broken. Returns, per example, the first misclassified point found
 * (the clean image where none was). Defaults: ε 8/255, 100 steps, 9 targets, 1 restart, L∞.
 * One host read per target (which examples are still to attack).
 */
export function apgdTargeted(
  model: ModelLikeForward,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: ApgdTargetedOptions = {},
): tf.Tensor4D {
  checkAttackInputs(x, { y, model });
  assertGradientsRegistered('apgdTargeted');
  const { targets = 9, training = false, rng, ...apgdOptions } = options;
  const random = toRng(rng, 0);
  const forward = toForward(model, 'model', training);
  const ranking = cleanRanking(forward, x, y);
  const { classes, correct: still } = ranking;
  let adversarial = x.clone();
  for (let rank = 1; rank <= Math.min(targets, classes - 1); rank++) {
    const indices = indicesWhere(still);
    if (indices.length === 0) break;
    const { xs, ys, target } = targetBatch(ranking, x, indices, rank);
    const run = apgdWithDetails(
      (xAdv) =>
        tf.tidy(() => {
          const logits = forward(xAdv);
          return {
            loss: targetedDlrLoss(logits, ys, target),
            success: tf.notEqual(tf.argMax(logits, 1), ys) as tf.Tensor1D,
          };
        }),
      xs,
      { ...apgdOptions, rng: random.fork(`target-${rank}`) },
    );
    const success = run.success.dataSync();
    const broken = indicesWhere(success);
    if (broken.length > 0) {
      const rows = gatherRows(run.adversarial, broken);
      const next = replaceRows(
        adversarial,
        broken.map((j) => indices[j]),
        rows,
      );
      adversarial.dispose();
      rows.dispose();
      adversarial = next;
      for (const j of broken) still[indices[j]] = 0;
    }
    tf.dispose([xs, ys, target, run.adversarial, run.bestLoss, run.success, run.stepSize]);
  }
  return adversarial;
}
