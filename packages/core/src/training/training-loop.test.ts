import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryCheckpointStore } from '../checkpoint/checkpoint-store';
import { AbortedError, NonFiniteError } from '../errors/errors';
import type { MocoRobustEvent } from '../events/events';
import { trainingLoop, type TrainingLoopOptions } from './training-loop';

/** A one-weight "model": each step w ← w/2 + step + 1 (or NaN from `nanAt` on); the loss is w. */
function toyRun(options: {
  w: tf.Variable;
  nanAt?: number;
  onStep?: (step: number) => void;
}): Omit<TrainingLoopOptions, 'store' | 'resume' | 'signal' | 'onEvent'> {
  const { w } = options;
  return {
    name: 'Toy training',
    totalSteps: 8,
    stepsPerEpoch: 3,
    batchSize: 1,
    logEvery: 1,
    checkpoint: { everySteps: 1, everyEpochs: 1 },
    restore: async (c) => {
      const saved = new Float32Array((await c.read('w.bin')).slice().buffer);
      tf.tidy(() => w.assign(tf.tensor(saved, [])));
    },
    files: async () => ({ 'w.bin': new Uint8Array((await w.data()).slice().buffer) }),
    learningRate: () => 0.1,
    trainStep: (step) => {
      options.onStep?.(step);
      tf.tidy(() =>
        w.assign(step >= (options.nanAt ?? Infinity) ? tf.scalar(Number.NaN) : tf.add(tf.div(w, 2), step + 1)),
      );
      return tf.clone(w) as tf.Scalar;
    },
    weights: () => [w],
  };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('trainingLoop', () => {
  it('stops within one step of an abort, saves there, and resumes to the same weights and losses', async () => {
    const reference = tf.variable(tf.scalar(1));
    const referenceEvents: MocoRobustEvent[] = [];
    const finished = await trainingLoop({ ...toyRun({ w: reference }), onEvent: (e) => referenceEvents.push(e) });
    const w = tf.variable(tf.scalar(1));
    const before = tf.memory().numTensors;
    const store = memoryCheckpointStore();
    const controller = new AbortController();
    const events: MocoRobustEvent[] = [];
    const interrupted = trainingLoop({
      ...toyRun({ w, onStep: (step) => step === 4 && controller.abort() }),
      checkpoint: { everySteps: 2, everyEpochs: 1 },
      store,
      signal: controller.signal,
      onEvent: (e) => events.push(e),
    });
    await expect(interrupted).rejects.toThrow(AbortedError);
    await expect(interrupted).rejects.toThrow('Toy training stopped at step 5 of 8; checkpoint saved at memory:5.');
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => [e.step, e.reason])).toEqual([
      [2, 'steps'],
      [3, 'epoch'],
      [4, 'steps'],
      [5, 'abort'],
    ]);
    tf.tidy(() => w.assign(tf.scalar(123))); // as in a fresh process: the weight comes from the checkpoint
    await trainingLoop({ ...toyRun({ w }), store, resume: true, onEvent: (e) => events.push(e) });
    expect(w.dataSync()[0]).toBe(reference.dataSync()[0]);
    // mid-epoch resume: the epoch's mean loss counts the steps before the interruption too
    const losses = (list: MocoRobustEvent[]) => list.filter((e) => e.type === 'step-end').map((e) => [e.step, e.loss]);
    expect(losses(events)).toEqual(losses(referenceEvents));
    // resuming the finished run writes nothing and reports the same loss
    const again = await trainingLoop({ ...toyRun({ w }), store, resume: true, onEvent: (e) => events.push(e) });
    expect(again).toEqual({ steps: 8, loss: finished.loss, checkpoint: 'memory:8' });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, reference]);
  });

  it('stops a run whose loss turns NaN with a NonFiniteError, keeping the last finite checkpoint', async () => {
    const w = tf.variable(tf.scalar(1));
    const store = memoryCheckpointStore();
    const run = trainingLoop({ ...toyRun({ w, nanAt: 4 }), store });
    await expect(run).rejects.toThrow(NonFiniteError);
    await expect(run).rejects.toThrow(/at step 5; the last finite checkpoint is memory:4/);
    const latest = await store.latest();
    expect(latest?.step).toBe(4);
    expect(Number.isFinite(new Float32Array((await latest!.read('w.bin')).slice().buffer)[0])).toBe(true);
    w.dispose();
  });
});
