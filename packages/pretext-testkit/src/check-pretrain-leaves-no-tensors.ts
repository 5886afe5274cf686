import * as tf from '@tensorflow/tfjs-core';
import type { ModelLike } from '@moco-robust/core';
import { keptTransforms } from '@moco-robust/models';
import { ConformanceError } from './conformance-error';
import type { RecordedPretrain } from './record-pretrain';
import { weightCount } from './tensor-checks';

/** Options of {@link checkPretrainLeavesNoTensors}. */
export interface CheckPretrainLeavesNoTensorsOptions {
  /** Tensor count to compare with; default the run's `tensorsBefore` (taken when it started). */
  tensorsBefore?: number;
  /**
   * The models whose weights may be new since then; default the run's heads (add the encoder when `tensorsBefore` was
   * taken before it was built).
   */
  models?: ModelLike[];
}

/** What {@link checkPretrainLeavesNoTensors} measured. */
export interface PretrainTensorReport {
  /** `numTensors` at each epoch end. */
  perEpoch: number[];
  /** Tensors created since `tensorsBefore` and still alive. */
  created: number;
  /** Weight tensors of `models` and the weight transforms they keep between inference passes (what may be alive). */
  owned: number;
}

const CHECK = 'checkPretrainLeavesNoTensors';

/**
 * Checks a recorded pre-training run (from {@link recordPretrain}) for leaks: the tensor count is the
 * same at every epoch end, and what is alive now beyond `tensorsBefore` is exactly the weights of
 * `models` (the heads the run made, by default) and the weight transforms they keep between inference passes
 * (`keptTransforms` of `@moco-robust/models`) — no batch, attack, optimizer slot or task tensor left behind. Call it
 * right after the run, before creating other tensors. Throws a {@link ConformanceError}; returns the counts.
 */
export function checkPretrainLeavesNoTensors(
  run: RecordedPretrain,
  options: CheckPretrainLeavesNoTensorsOptions = {},
): PretrainTensorReport {
  const perEpoch = run.epochs.map((e) => e.numTensors);
  if (perEpoch.length === 0)
    throw new ConformanceError({
      check: `${CHECK}: epochs`,
      expected: 'a run with at least one epoch-end event (use recordPretrain)',
      received: 'none',
    });
  if (perEpoch.some((n) => n !== perEpoch[0])) {
    throw new ConformanceError({
      check: `${CHECK}: tensor count per epoch`,
      expected: `the same count at every epoch end (${perEpoch[0]})`,
      received: perEpoch.join(', '),
      hint: 'A step leaks: wrap makeBatch / loss / craft in tf.tidy and dispose carried state.',
    });
  }
  const models = options.models ?? Object.values(run.heads);
  const weights = models.reduce((n, m) => n + weightCount(m), 0);
  // and what they keep between inference passes (a kNN monitor's or a task's forward pass in inference mode)
  const transforms = models.reduce((n, m) => n + keptTransforms(m).numTensors, 0);
  const owned = weights + transforms;
  const created = tf.memory().numTensors - (options.tensorsBefore ?? run.tensorsBefore);
  if (created !== owned) {
    throw new ConformanceError({
      check: `${CHECK}: tensors after the run`,
      expected:
        `only the ${weights} weight tensors of the ${models.length} kept model${models.length === 1 ? '' : 's'}` +
        (transforms > 0 ? ` and the ${transforms} weight transforms they keep between inference passes` : ''),
      received: `${created} new tensors (${created - owned} ${created > owned ? 'leaked' : 'missing'})`,
    });
  }
  return { perEpoch, created, owned };
}
