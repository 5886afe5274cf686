import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointFiles, StoredCheckpoint } from '../checkpoint/checkpoint-store';
import type { RunOptions } from '../checkpoint/run-options';
import { AbortedError, NonFiniteError } from '../errors/errors';
import { emit } from '../events/events';

/** Why the loop wrote a checkpoint. */
export type CheckpointReason = 'steps' | 'epoch' | 'final' | 'abort';

/** Events the training loop emits (the trainer adds its own `…-start`, `epoch-end` and `…-end`). */
export type TrainingLoopEvent =
  | {
      type: 'step-end';
      step: number;
      epoch: number;
      totalSteps: number;
      loss: number;
      learningRate: number;
      imagesPerSecond: number;
    }
  | { type: 'checkpoint'; step: number; location: string; reason: CheckpointReason }
  | { type: 'warning'; message: string };

/** Options of {@link trainingLoop}: the schedule, the checkpoint cadence and the trainer's callbacks. */
export interface TrainingLoopOptions extends Omit<RunOptions<TrainingLoopEvent>, 'metadata'> {
  /** Names the run in messages (`Pre-training`, `Fine-tuning`). */
  name: string;
  totalSteps: number;
  stepsPerEpoch: number;
  /** Images per step (for the throughput in `step-end`). */
  batchSize: number;
  /** A `step-end` event every `logEvery` steps and at the end of each epoch. */
  logEvery: number;
  /** Checkpoint every `everySteps` steps / `everyEpochs` epochs (0: never) and keep the newest `keep`. */
  checkpoint: { everySteps: number; everyEpochs: number; keep?: number };
  /** Restores the trainer's state (weights, optimizer, task) from a checkpoint. */
  restore(checkpoint: StoredCheckpoint): Promise<void>;
  /** The trainer's files of a checkpoint at `step` (the loop adds `loop.json`). */
  files(step: number): Promise<CheckpointFiles>;
  /** Manifest metadata of a checkpoint at `step`. */
  meta?(step: number): Record<string, unknown>;
  /** Sets the learning rate of `epoch` and returns it. */
  learningRate(epoch: number): number;
  /** One optimisation step; returns the scalar training loss (the loop disposes it). */
  trainStep(step: number, epoch: number, indexInEpoch: number): tf.Scalar;
  /** After an epoch's last step, with its mean loss (validation, kNN, the `epoch-end` event). */
  onEpochEnd?(epoch: number, loss: number, step: number): void | Promise<void>;
  /** The weights the non-finite guard checks before every checkpoint. */
  weights(): tf.Tensor[];
  /** Called once with the step the loop starts at (after a resume: the checkpoint's). */
  onStart?(startStep: number, resumedFrom: string | undefined): void;
}

/** What {@link trainingLoop} returns. */
export interface TrainingLoopResult {
  steps: number;
  /** Mean loss of the last epoch (or of the steps so far in it). */
  loss: number;
  checkpoint?: string;
}

/**
 * The one training loop `pretrain` and `finetune` drive: resume from the store's newest intact checkpoint, the
 * epoch/step schedule, loss accumulation (checkpointed, so metrics after a mid-epoch resume equal an uninterrupted
 * run's), `step-end` events, checkpoint cadence, abort and a non-finite guard. It yields to the event loop before
 * every step, so an abort (Ctrl-C) is honoured within one step: it saves at the current step and rejects with an
 * {@link AbortedError}. A NaN or infinite loss or weight rejects with a {@link NonFiniteError} before anything
 * non-finite is saved, so the last checkpoint stays finite.
 */
export async function trainingLoop(o: TrainingLoopOptions): Promise<TrainingLoopResult> {
  let step = 0;
  let epochLoss = tf.scalar(0);
  let epochSteps = 0;
  let lastLoss = Number.NaN;
  let checkpoint: string | undefined;
  let savedStep = -1;
  const latest = o.resume && o.store ? await o.store.latest() : undefined;
  if (latest) {
    for (const message of latest.warnings ?? []) emit(o.onEvent, { type: 'warning', message });
    await o.restore(latest);
    step = latest.step;
    const loop = await latest.readText('loop.json').then(
      (text) => JSON.parse(text) as { epochLoss: number; epochSteps: number; lastLoss?: number | null },
      () => ({ epochLoss: 0, epochSteps: step % o.stepsPerEpoch, lastLoss: null }),
    );
    epochLoss.dispose();
    epochLoss = tf.scalar(loop.epochLoss);
    epochSteps = loop.epochSteps;
    lastLoss = loop.lastLoss ?? Number.NaN;
    checkpoint = latest.location;
    savedStep = step;
  }
  o.onStart?.(step, latest?.location);

  const guard = async (what: 'check' | 'save') => {
    const finite = tf.tidy(() => {
      const checks = [tf.cast(tf.all(tf.isFinite(epochLoss)), 'float32')];
      for (const w of o.weights()) checks.push(tf.cast(tf.all(tf.isFinite(w)), 'float32'));
      return tf.min(tf.stack(checks));
    });
    const ok = (await finite.data())[0] === 1;
    finite.dispose();
    if (!ok)
      throw new NonFiniteError({
        step,
        what: `${o.name}'s loss or weights`,
        checkpoint,
        hint:
          what === 'save'
            ? 'Nothing non-finite was saved; try a smaller learning rate.'
            : 'Try a smaller learning rate.',
      });
  };
  const save = async (reason: CheckpointReason) => {
    if (!o.store) return checkpoint;
    if (savedStep === step) return checkpoint; // this step is already checkpointed (e.g. resuming a finished run)
    await guard('save');
    const files = await o.files(step);
    const loopState = { epochLoss: (await epochLoss.data())[0], epochSteps, lastLoss };
    files['loop.json'] = JSON.stringify(loopState); // NaN (no step yet) is saved as null
    checkpoint = await o.store.write(step, files, o.meta?.(step) ?? {}, { keep: o.checkpoint.keep });
    savedStep = step;
    emit(o.onEvent, { type: 'checkpoint', step, location: checkpoint, reason });
    return checkpoint;
  };

  let windowStart = performance.now();
  let windowSteps = 0;
  try {
    while (step < o.totalSteps) {
      await new Promise((resolve) => setImmediate(resolve)); // lets a Ctrl-C handler run between steps
      if (o.signal?.aborted) {
        await save('abort');
        const saved = checkpoint ? `; checkpoint saved at ${checkpoint}` : '';
        throw new AbortedError(`${o.name} stopped at step ${step} of ${o.totalSteps}${saved}.`);
      }
      const epoch = Math.floor(step / o.stepsPerEpoch);
      const learningRate = o.learningRate(epoch);
      const loss = o.trainStep(step, epoch, step % o.stepsPerEpoch);
      const next = tf.add(epochLoss, loss) as tf.Scalar;
      tf.dispose([epochLoss, loss]);
      epochLoss = next;
      epochSteps++;
      windowSteps++;
      step++;
      const epochDone = step % o.stepsPerEpoch === 0;
      if (step % o.logEvery === 0 || epochDone) {
        lastLoss = (await epochLoss.data())[0] / epochSteps;
        if (!Number.isFinite(lastLoss)) await guard('check');
        const now = performance.now();
        emit(o.onEvent, {
          type: 'step-end',
          step,
          epoch,
          totalSteps: o.totalSteps,
          loss: lastLoss,
          learningRate,
          imagesPerSecond: (windowSteps * o.batchSize * 1000) / (now - windowStart),
        });
        windowStart = now;
        windowSteps = 0;
      }
      if (epochDone) {
        await o.onEpochEnd?.(epoch, lastLoss, step);
        epochLoss.dispose();
        epochLoss = tf.scalar(0);
        epochSteps = 0;
        const c = o.checkpoint;
        if (step < o.totalSteps && c.everyEpochs > 0 && (epoch + 1) % c.everyEpochs === 0) await save('epoch');
        else if (step < o.totalSteps && c.everySteps > 0 && step % c.everySteps === 0) await save('steps');
      } else if (o.checkpoint.everySteps > 0 && step % o.checkpoint.everySteps === 0) {
        await save('steps');
      }
    }
    await save('final');
  } finally {
    epochLoss.dispose();
  }
  return { steps: step, loss: lastLoss, checkpoint };
}
