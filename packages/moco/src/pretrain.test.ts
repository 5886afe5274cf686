import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { memoryCheckpointStore } from '@moco-robust/core';
import { readCifarSample, tinyPretextEncoder, useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { mocoTask } from './moco-task';
import { pretrain, type PretrainEvent } from './pretrain';
import { flipJitter } from './test-helpers/flip-jitter';
import { tinyHead } from './test-helpers/tiny-head';

const all = readCifarSample('data_batch_1.bin', 96);

beforeAll(async () => {
  await useFastestBackend();
});

describe.skipIf(!all)('pretrain (MoCo, tiny encoder, real CIFAR sample)', () => {
  const data = { images: all!.images.subarray(0, 64 * 3072), count: 64 };

  const run = async (
    attack: 'pgd' | 'fgsm' | 'none',
    extra: {
      store?: ReturnType<typeof memoryCheckpointStore>;
      epochs?: number;
      resume?: boolean;
      signal?: AbortSignal;
    } = {},
  ) => {
    const events: PretrainEvent[] = [];
    const encoder = tinyPretextEncoder(1);
    const task = mocoTask({ version: 'v2', augment: flipJitter, projectionHead: tinyHead, queueSize: 64, dim: 8 });
    const result = await pretrain({
      task,
      encoder,
      data,
      config: {
        seed: 5,
        epochs: extra.epochs ?? 2,
        batchSize: 16,
        attack: { kind: attack, steps: 2 },
        logEvery: 1,
        knn: { everyEpochs: 0 },
        checkpoint: { everySteps: 1, everyEpochs: 0 },
      },
      store: extra.store,
      resume: extra.resume,
      signal: extra.signal,
      onEvent: (e) => events.push(e),
    });
    return { events, encoder, task, result };
  };

  it('runs plain, MoCo-FGSM and MoCo-PGD pre-training with flat tensor counts and per-step events', async () => {
    for (const attack of ['none', 'fgsm', 'pgd'] as const) {
      const before = tf.memory().numTensors;
      const { events, encoder, task, result } = await run(attack);
      expect(result.steps).toBe(8);
      expect(Number.isFinite(result.loss)).toBe(true);
      const steps = events.filter((e) => e.type === 'step-end');
      expect(steps).toHaveLength(8);
      const epochs = events.filter((e): e is Extract<PretrainEvent, { type: 'epoch-end' }> => e.type === 'epoch-end');
      expect(epochs[1].numTensors).toBe(epochs[0].numTensors); // flat across epochs
      // everything the run created is owned by the encoder, heads and task (queue, momentum encoder and head): dispose
      // them and nothing is left
      task.dispose?.();
      (encoder.model as unknown as { dispose(): void }).dispose();
      for (const m of Object.values(result.heads)) (m as unknown as { dispose(): void }).dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('resumes from an aborted run to exactly the weights of an uninterrupted one', async () => {
    const uninterrupted = await run('pgd');
    const store = memoryCheckpointStore();
    const controller = new AbortController();
    const events: PretrainEvent[] = [];
    const encoder = tinyPretextEncoder(1);
    const task = mocoTask({ version: 'v2', augment: flipJitter, projectionHead: tinyHead, queueSize: 64, dim: 8 });
    await expect(
      pretrain({
        task,
        encoder,
        data,
        store,
        signal: controller.signal,
        config: {
          seed: 5,
          epochs: 2,
          batchSize: 16,
          attack: { kind: 'pgd', steps: 2 },
          logEvery: 1,
          knn: { everyEpochs: 0 },
          checkpoint: { everySteps: 1, everyEpochs: 0 },
        },
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'step-end' && e.step === 3) controller.abort();
        },
      }),
    ).rejects.toThrow(/stopped at step 3 of 8/);
    const resumed = await run('pgd', { store, resume: true });
    expect(resumed.events[0]).toMatchObject({ type: 'pretrain-start', startStep: 3 });
    const a = uninterrupted.encoder.model.getWeights();
    const b = resumed.encoder.model.getWeights();
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(Array.from(b[i].dataSync())).toEqual(Array.from(a[i].dataSync()));
    const qa = uninterrupted.task.tensors!().queue.dataSync();
    const qb = resumed.task.tensors!().queue.dataSync();
    expect(Array.from(qb)).toEqual(Array.from(qa));
  });
});
