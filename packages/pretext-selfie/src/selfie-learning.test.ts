import * as tf from '@tensorflow/tfjs-core';
import { imagesFromUint8, memoryCheckpointStore, Rng, type PretextContext, type PretextHeads } from '@moco-robust/core';
import { pgd } from '@moco-robust/attacks';
import { evaluateRobustness, finetune } from '@moco-robust/eval';
import { createResnetEncoder, type ResnetEncoder } from '@moco-robust/models';
import { pretrain, type PretrainEvent } from '@moco-robust/moco';
import { readCifarSample, tinyEncoderModel, useFastestBackend } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateAccuracy, selfieTask, type SelfieTaskOptions } from './selfie-task';

const train = readCifarSample('data_batch_1.bin', 512);
const test = readCifarSample('test_batch.bin', 256);

/** A small attention pooling for tests (Chen et al.'s 13 layers × 2048 are the defaults). */
const SMALL: SelfieTaskOptions = { layers: 1, heads: 2, feedForwardDim: 64 };

describe.skipIf(!train || !test)('Selfie pre-training on the real CIFAR sample (ResNet-8, fastest backend)', () => {
  const task = selfieTask(SMALL);
  let encoder: ResnetEncoder;
  let heads: PretextHeads;
  let epochs: Array<Extract<PretrainEvent, { type: 'epoch-end' }>>;
  let before: number;
  let initialAccuracy: number;

  /** Held-out candidate accuracy over 4 seeded masks of the 256 test images (inference mode). */
  const heldOutAccuracy = () => {
    const images = imagesFromUint8(test!.images, test!.count);
    const context: PretextContext = { encoder, heads, training: false, rng: Rng.fromSeed(9), step: 0 };
    let accuracy = 0;
    for (let m = 0; m < 4; m++) {
      const batch = task.makeBatch(images, Rng.fromSeed(100 + m), context);
      accuracy += tf.tidy(() => candidateAccuracy(task.logits(context, batch.inputs, batch.targets)).dataSync()[0]) / 4;
      tf.dispose([batch.inputs, ...Object.values(batch.targets)]);
    }
    images.dispose();
    return accuracy;
  };

  /** Clean and PGD-5 (ε 8/255, step 2/255) Selfie losses of 128 test images under one mask. */
  const cleanAndAdversarialLoss = () => {
    const images = imagesFromUint8(test!.images.subarray(0, 128 * 3072), 128);
    const context: PretextContext = { encoder, heads, training: false, rng: Rng.fromSeed(9), step: 0 };
    const batch = task.makeBatch(images, Rng.fromSeed(100), context);
    const adversarial = pgd((x) => task.loss(context, x, batch.targets), batch.inputs, { epsilon: 8 / 255, stepSize: 2 / 255, steps: 5, rng: 4 });
    const [clean, robust] = tf.tidy(() => [batch.inputs, adversarial].map((x) => tf.mean(task.loss(context, x, batch.targets)).dataSync()[0]));
    tf.dispose([images, adversarial, batch.inputs, ...Object.values(batch.targets)]);
    return { clean, robust };
  };

  beforeAll(async () => {
    await useFastestBackend();
    before = tf.memory().numTensors;
    encoder = createResnetEncoder({ architecture: 'resnet8-w16', rng: 3 });
    heads = task.createHeads(encoder, Rng.fromSeed(1).fork('heads')); // the engine's heads for seed 1, to measure them untrained
    initialAccuracy = heldOutAccuracy();
    for (const head of Object.values(heads)) (head as unknown as { dispose(): void }).dispose();
    epochs = [];
    const result = await pretrain({
      task,
      encoder,
      data: train!,
      config: { seed: 1, epochs: 3, batchSize: 32, optimizer: { learningRate: 0.1 }, attack: { kind: 'pgd', steps: 1, stepSize: 2 / 255 }, knn: { everyEpochs: 0 }, checkpoint: { everyEpochs: 0 }, logEvery: 16 },
      onEvent: (e) => { if (e.type === 'epoch-end') epochs.push(e); },
    });
    heads = result.heads;
  });

  afterAll(() => {
    encoder?.model.dispose();
    for (const head of Object.values(heads ?? {})) (head as unknown as { dispose(): void }).dispose();
  });

  it('lifts held-out candidate accuracy above chance (25%) in 48 adversarial steps; PGD raises the pretext loss above the clean loss', () => {
    const accuracy = heldOutAccuracy();
    const { clean, robust } = cleanAndAdversarialLoss();
    console.info(`selfie: epoch losses ${epochs.map((e) => e.loss.toFixed(3)).join(' ')}; held-out accuracy ${(100 * initialAccuracy).toFixed(1)}% → ${(100 * accuracy).toFixed(1)}%; loss clean ${clean.toFixed(3)} → PGD-5 ${robust.toFixed(3)}`);
    expect(accuracy).toBeGreaterThan(0.3);
    expect(accuracy).toBeGreaterThan(initialAccuracy + 0.05);
    expect(robust).toBeGreaterThan(clean + 0.05);
    expect(epochs[epochs.length - 1].loss).toBeLessThan(epochs[0].loss);
  });

  it('keeps the tensor count flat across epochs and leaves only the encoder and head weights', () => {
    expect(epochs.map((e) => e.numTensors)).toEqual(epochs.map(() => epochs[0].numTensors));
    const owned = encoder.model.weights.length + Object.values(heads).reduce((n, h) => n + (h as unknown as { weights: unknown[] }).weights.length, 0);
    expect(tf.memory().numTensors - before).toBe(owned);
  });

  it('fine-tunes and evaluates with @moco-robust/eval like a MoCo encoder', async () => {
    const { classifier } = await finetune({ encoder: encoder.model, train: train!, config: { seed: 2, epochs: 1, batchSize: 64, validationSize: 0, loss: 'mixed', attack: { steps: 2 }, logEvery: 100 } });
    const result = evaluateRobustness(classifier.model, test!, { attacks: ['clean', 'pgd'], settings: { pgdSteps: 3, seed: 1 } });
    console.info(`selfie → fine-tuned: clean ${(100 * result.clean.accuracy).toFixed(1)}%, PGD-3 ${(100 * result.pgd!.accuracy).toFixed(1)}%`);
    expect(result.clean.total).toBe(256);
    expect(result.pgd!.accuracy).toBeLessThanOrEqual(result.clean.accuracy);
    classifier.head.dispose();
  });
});

describe.skipIf(!train)('Selfie checkpoints (tiny encoder, fastest backend)', () => {
  const data = { images: train ? train.images.subarray(0, 64 * 3072) : new Uint8Array(0), count: 64 };
  const config = { seed: 5, epochs: 2, batchSize: 16, attack: { kind: 'pgd' as const, steps: 2 }, logEvery: 1, knn: { everyEpochs: 0 }, checkpoint: { everySteps: 1, everyEpochs: 0 } };
  const encoderOf = () => {
    const model = tinyEncoderModel(1);
    return { model, featureDim: 16, clone: () => tinyEncoderModel(1) };
  };

  beforeAll(async () => {
    await useFastestBackend();
  });

  it('resumes an aborted run to exactly the weights of an uninterrupted one, heads included', async () => {
    const uninterrupted = { encoder: encoderOf(), task: selfieTask(SMALL) };
    const full = await pretrain({ ...uninterrupted, data, config });
    const store = memoryCheckpointStore();
    const controller = new AbortController();
    const first = { encoder: encoderOf(), task: selfieTask(SMALL) };
    await expect(pretrain({ ...first, data, config, store, signal: controller.signal, onEvent: (e) => { if (e.type === 'step-end' && e.step === 3) controller.abort(); } })).rejects.toThrow(/stopped at step 3 of 8/);
    const resumedRun = { encoder: encoderOf(), task: selfieTask(SMALL) };
    const resumed = await pretrain({ ...resumedRun, data, config, store, resume: true });
    expect(resumed.steps).toBe(8);
    const pairs = [[uninterrupted.encoder.model, resumedRun.encoder.model], [full.heads['attention-pooling'], resumed.heads['attention-pooling']]] as const;
    for (const [a, b] of pairs) {
      const [wa, wb] = [a.getWeights(), b.getWeights()];
      expect(wb.length).toBe(wa.length);
      for (let i = 0; i < wa.length; i++) expect(Array.from(wb[i].dataSync())).toEqual(Array.from(wa[i].dataSync()));
    }
    for (const run of [uninterrupted, first, resumedRun]) run.encoder.model.dispose();
    for (const h of [full.heads, resumed.heads]) for (const m of Object.values(h)) (m as unknown as { dispose(): void }).dispose();
  });
});
