import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { memoryCheckpointStore } from '@moco-robust/core';
import { readCifarSample, tinyEncoderModel, useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRobustness } from './evaluate-robustness';
import { finetune, type FinetuneEvent } from './finetune';

const train = readCifarSample('data_batch_1.bin', 512);
const test = readCifarSample('test_batch.bin', 256);

describe.skipIf(!train || !test)('finetune on the real CIFAR sample (tiny encoder, fastest backend)', () => {
  beforeAll(async () => {
    await useFastestBackend();
  });
  const budget = {
    seed: 3,
    epochs: 4,
    batchSize: 32,
    validationSize: 0,
    augment: false,
    attack: { steps: 3, stepSize: 2 / 255 },
    optimizer: { learningRate: 0.05, schedule: 'constant' as const },
    logEvery: 100,
  };

  it('adversarial fine-tuning gives higher PGD accuracy than standard fine-tuning of the same encoder', async () => {
    const results: Record<string, number> = {};
    for (const loss of ['standard', 'adversarial'] as const) {
      const encoder = tinyEncoderModel(7);
      const { classifier } = await finetune({ encoder, train: train!, config: { ...budget, loss, mode: 'full' } });
      const result = evaluateRobustness(classifier.model, test!, {
        attacks: ['clean', 'pgd'],
        settings: { pgdSteps: 10, seed: 1 },
      });
      results[loss] = result.pgd!.accuracy;
      results[`${loss}-clean`] = result.clean.accuracy;
      classifier.model.dispose();
    }
    expect(results['standard-clean']).toBeGreaterThan(0.15); // it learned something
    expect(results.adversarial).toBeGreaterThan(results.standard + 0.03);
  });

  it('is reproducible with a seed, keeps the tensor count flat and resumes exactly', async () => {
    const run = async (store?: ReturnType<typeof memoryCheckpointStore>, resume = false, abortAt?: number) => {
      const controller = new AbortController();
      const events: FinetuneEvent[] = [];
      const { classifier } = await finetune({
        encoder: tinyEncoderModel(9),
        train: readCifarSample('data_batch_1.bin', 128)!,
        config: {
          seed: 4,
          epochs: 3,
          batchSize: 32,
          validationSize: 32,
          loss: 'mixed',
          augment: true,
          attack: { steps: 2 },
          logEvery: 1,
        },
        store,
        resume,
        signal: controller.signal,
        onEvent: (e) => {
          events.push(e);
          if (abortAt !== undefined && e.type === 'step-end' && e.step === abortAt) controller.abort();
        },
      });
      return { classifier, events };
    };
    const a = await run();
    const b = await run();
    const wa = a.classifier.model.getWeights(),
      wb = b.classifier.model.getWeights();
    for (let i = 0; i < wa.length; i++) expect(Array.from(wb[i].dataSync())).toEqual(Array.from(wa[i].dataSync()));
    const epochs = a.events.filter((e): e is Extract<FinetuneEvent, { type: 'epoch-end' }> => e.type === 'epoch-end');
    expect(epochs).toHaveLength(3);
    expect(epochs[2].numTensors).toBe(epochs[1].numTensors);
    expect(epochs[0].validation?.robust).toBeTypeOf('number');

    const store = memoryCheckpointStore();
    await expect(run(store, false, 4)).rejects.toThrow(/stopped at step 4 of 9/);
    const resumed = await run(store, true);
    expect(resumed.events[0]).toMatchObject({ type: 'finetune-start', startStep: 4 });
    const wr = resumed.classifier.model.getWeights();
    for (let i = 0; i < wa.length; i++) expect(Array.from(wr[i].dataSync())).toEqual(Array.from(wa[i].dataSync()));
  });

  it('reports clean, FGSM and PGD accuracy reproducibly, per class, with the attack named', () => {
    const model = tinyEncoderModel(1);
    const logits = (x: tf.Tensor4D) => tf.slice(model.apply(x) as tf.Tensor2D, [0, 0], [-1, 10]) as tf.Tensor2D;
    const first = evaluateRobustness(logits, test!, { settings: { pgdSteps: 3, seed: 5 } });
    const second = evaluateRobustness(logits, test!, { settings: { pgdSteps: 3, seed: 5 } });
    expect(second).toEqual(first);
    expect(first.pgd!.attack).toBe('PGD-3 (ε=8/255, α=2/255, 1 restart)');
    expect(first.clean.perClass).toHaveLength(10);
    expect(first.clean.total).toBe(256);
    expect(first.pgd!.accuracy).toBeLessThanOrEqual(first.clean.accuracy);
  });
});
