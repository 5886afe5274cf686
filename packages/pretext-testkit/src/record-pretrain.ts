import * as tf from '@tensorflow/tfjs-core';
import { pretrain, type PretrainEvent, type PretrainOptions, type PretrainResult } from '@moco-robust/moco';

/** An `epoch-end` event of the pre-training engine. */
export type EpochEnd = Extract<PretrainEvent, { type: 'epoch-end' }>;

/** A {@link pretrain} result with what {@link checkPretrainLeavesNoTensors} needs. */
export interface RecordedPretrain extends PretrainResult {
  /** The `epoch-end` events, in order (loss and tensor count per epoch). */
  epochs: EpochEnd[];
  /** `tf.memory().numTensors` when the run started (the encoder already built). */
  tensorsBefore: number;
  /** Wall-clock seconds of the run. */
  seconds: number;
}

/**
 * Runs `pretrain` of `@moco-robust/moco` (the engine that pre-trains every plugin) and records its
 * epoch ends and the tensor count before it started; `options.onEvent` still receives every event.
 */
export async function recordPretrain(options: PretrainOptions): Promise<RecordedPretrain> {
  const epochs: EpochEnd[] = [];
  const tensorsBefore = tf.memory().numTensors;
  const started = performance.now();
  const result = await pretrain({
    ...options,
    onEvent: (event) => {
      if (event.type === 'epoch-end') epochs.push(event);
      options.onEvent?.(event);
    },
  });
  return { ...result, epochs, tensorsBefore, seconds: (performance.now() - started) / 1000 };
}
