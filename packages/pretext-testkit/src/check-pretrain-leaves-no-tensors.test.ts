import * as tf from '@tensorflow/tfjs-core';
import { createResnetEncoder } from '@moco-robust/models';
import { useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPretrainLeavesNoTensors } from './check-pretrain-leaves-no-tensors';
import { flipTask } from './flip-task.fixture';
import { recordPretrain } from './record-pretrain';

beforeAll(async () => {
  await useFastestBackend();
});

/** 64 seeded random images (uint8 HWC): the check is about tensors, not learning. */
const data = { images: Uint8Array.from({ length: 64 * 3072 }, (_, i) => (i * 2654435761) >>> 24), count: 64 };
const config = {
  seed: 3,
  epochs: 2,
  batchSize: 16,
  attack: { kind: 'pgd' as const, steps: 1 },
  knn: { everyEpochs: 0 },
  checkpoint: { everyEpochs: 0 },
  logEvery: 4,
};

describe('recordPretrain and checkPretrainLeavesNoTensors', () => {
  it('record the epochs of an engine run and pass a task that leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const encoder = createResnetEncoder({ architecture: 'resnet6-w8', rng: 1 });
    const events: string[] = [];
    const run = await recordPretrain({ task: flipTask(), encoder, data, config, onEvent: (e) => events.push(e.type) });
    expect(run.steps).toBe(8);
    expect(run.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(events).toContain('pretrain-end'); // the caller's listener still hears everything
    const report = checkPretrainLeavesNoTensors(run);
    expect(report.created).toBe(report.owned);
    expect(report.owned).toBe(2); // the flip head's kernel and bias
    // measured from before the encoder existed: its weights are kept too
    expect(
      checkPretrainLeavesNoTensors(run, { tensorsBefore: before, models: [encoder.model, ...Object.values(run.heads)] })
        .owned,
    ).toBe(encoder.model.weights.length + 2);
    encoder.model.dispose();
    for (const head of Object.values(run.heads)) (head as unknown as { dispose(): void }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('catches a task whose step leaks a tensor, saying how the count grew', async () => {
    const before = tf.memory().numTensors;
    const task = flipTask();
    const leaky = { ...task, afterStep: () => void tf.zeros([2]) };
    const encoder = createResnetEncoder({ architecture: 'resnet6-w8', rng: 1 });
    const run = await recordPretrain({ task: leaky, encoder, data, config });
    const [first, second] = run.epochs.map((e) => e.numTensors);
    expect(second - first).toBe(4); // one per step
    expect(() => checkPretrainLeavesNoTensors(run)).toThrow(
      new RegExp(
        `tensor count per epoch: expected the same count at every epoch ` +
          `end \\(${first}\\), got ${first}, ${second}. A step leaks`,
      ),
    );
    expect(() => checkPretrainLeavesNoTensors({ ...run, epochs: run.epochs.slice(0, 1) })).toThrow(
      /tensors after the run: expected only the 2 weight tensors of the 1 kept model, got 10 new tensors \(8 leaked\)/,
    );
    encoder.model.dispose();
    for (const head of Object.values(run.heads)) (head as unknown as { dispose(): void }).dispose();
    expect(tf.memory().numTensors - before).toBe(8); // the task's own leaks
  });
});
