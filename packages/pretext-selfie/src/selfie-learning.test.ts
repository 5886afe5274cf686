import * as tf from '@tensorflow/tfjs-core';
import { imagesFromUint8, Rng, type PretextContext, type PretextHeads } from '@moco-robust/core';
import { pgd } from '@moco-robust/attacks';
import { createResnetEncoder, type ResnetEncoder } from '@moco-robust/models';
import {
  checkFinetunesAndEvaluates,
  checkPretrainLeavesNoTensors,
  checkResumeIsExact,
  loadSample,
  recordPretrain,
  type EpochEnd,
} from '@moco-robust/pretext-testkit';
import { cifarSampleDir, tinyPretextEncoder, useFastestBackend } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateAccuracy, selfieTask, type SelfieTaskOptions } from './selfie-task';

const dir = cifarSampleDir();
const sample = dir ? loadSample({ dir, train: 512, test: 256 }) : undefined;
const train = sample?.train;
const test = sample?.test;

/** A small attention pooling for tests (Chen et al.'s 13 layers × 2048 are the defaults). */
const SMALL: SelfieTaskOptions = { layers: 1, heads: 2, feedForwardDim: 64 };

describe.skipIf(!train || !test)('Selfie pre-training on the real CIFAR sample (ResNet-8, fastest backend)', () => {
  const task = selfieTask(SMALL);
  let encoder: ResnetEncoder;
  let heads: PretextHeads;
  let epochs: EpochEnd[];
  let before: number;
  let initialAccuracy: number;
  let run: Awaited<ReturnType<typeof recordPretrain>>;

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
    const adversarial = pgd((x) => task.loss(context, x, batch.targets), batch.inputs, {
      epsilon: 8 / 255,
      stepSize: 2 / 255,
      steps: 5,
      rng: 4,
    });
    const [clean, robust] = tf.tidy(() =>
      [batch.inputs, adversarial].map((x) => tf.mean(task.loss(context, x, batch.targets)).dataSync()[0]),
    );
    tf.dispose([images, adversarial, batch.inputs, ...Object.values(batch.targets)]);
    return { clean, robust };
  };

  beforeAll(async () => {
    await useFastestBackend();
    before = tf.memory().numTensors;
    encoder = createResnetEncoder({ architecture: 'resnet8-w16', rng: 3 });
    // the engine's heads for seed 1, to measure them untrained
    heads = task.createHeads(encoder, Rng.fromSeed(1).fork('heads'));
    initialAccuracy = heldOutAccuracy();
    for (const head of Object.values(heads)) (head as unknown as { dispose(): void }).dispose();
    const result = await recordPretrain({
      task,
      encoder,
      data: train!,
      config: {
        seed: 1,
        epochs: 3,
        batchSize: 32,
        optimizer: { learningRate: 0.1 },
        attack: { kind: 'pgd', steps: 1, stepSize: 2 / 255 },
        knn: { everyEpochs: 0 },
        checkpoint: { everyEpochs: 0 },
        logEvery: 16,
      },
    });
    heads = result.heads;
    epochs = result.epochs;
    run = result;
  });

  afterAll(() => {
    encoder?.model.dispose();
    for (const head of Object.values(heads ?? {})) (head as unknown as { dispose(): void }).dispose();
  });

  it(
    'lifts held-out candidate accuracy above chance (25%) in 48 ' +
      'adversarial steps; PGD raises the pretext loss above the clean loss',
    () => {
      const accuracy = heldOutAccuracy();
      const { clean, robust } = cleanAndAdversarialLoss();
      console.info(
        `selfie: epoch losses ${epochs.map((e) => e.loss.toFixed(3)).join(' ')}; ` +
          `held-out accuracy ${(100 * initialAccuracy).toFixed(1)}% ` +
          `→ ${(100 * accuracy).toFixed(1)}%; loss clean ${clean.toFixed(3)} → PGD-5 ${robust.toFixed(3)}`,
      );
      expect(accuracy).toBeGreaterThan(0.3);
      expect(accuracy).toBeGreaterThan(initialAccuracy + 0.05);
      expect(robust).toBeGreaterThan(clean + 0.05);
      expect(epochs[epochs.length - 1].loss).toBeLessThan(epochs[0].loss);
    },
  );

  it('keeps the tensor count flat across epochs and leaves only the encoder and head weights', () => {
    checkPretrainLeavesNoTensors(run, { tensorsBefore: before, models: [encoder.model, ...Object.values(heads)] });
  });

  it('fine-tunes and evaluates with @moco-robust/eval like a MoCo encoder', async () => {
    const result = await checkFinetunesAndEvaluates({ encoder: encoder.model, train: train!, test: test! });
    console.info(
      `selfie → fine-tuned: clean ${(100 * result.clean).toFixed(1)}%, PGD-3 ${(100 * result.pgd).toFixed(1)}%`,
    );
    expect(result.total).toBe(256);
  });
});

describe.skipIf(!train)('Selfie checkpoints (tiny encoder, fastest backend)', () => {
  beforeAll(async () => {
    await useFastestBackend();
  });

  it('resumes an aborted run to exactly the weights of an uninterrupted one, heads included', async () => {
    const report = await checkResumeIsExact({
      createTask: () => selfieTask(SMALL),
      createEncoder: () => tinyPretextEncoder(1),
      data: { images: train!.images.subarray(0, 64 * 3072), count: 64 },
      config: { seed: 5, epochs: 2, batchSize: 16, attack: { kind: 'pgd', steps: 2 } },
    });
    expect(report.totalSteps).toBe(8);
    // the tiny encoder's 10 weights and the attention-pooling head's
    expect(report.comparedTensors).toBeGreaterThan(10);
  });
});
