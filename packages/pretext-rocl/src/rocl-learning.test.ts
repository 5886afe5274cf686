import * as tf from '@tensorflow/tfjs-core';
import { imagesFromUint8, memoryCheckpointStore, Rng, type PretextContext, type PretextHeads } from '@moco-robust/core';
import { evaluateRobustness, finetune } from '@moco-robust/eval';
import { createResnetEncoder, type ResnetEncoder } from '@moco-robust/models';
import { pretrain, type PretrainEvent } from '@moco-robust/moco';
import { readCifarSample, tinyEncoderModel, useFastestBackend } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceAccuracy } from './multi-view-nt-xent';
import { ROCL_ATTACK, roclTask, type RoclTaskOptions } from './rocl-task';

const train = readCifarSample('data_batch_1.bin', 512);
const test = readCifarSample('test_batch.bin', 256);

/** A narrower projection head for tests (RoCL's is 2048 → 128). */
const SMALL: RoclTaskOptions = { hiddenDim: 64, dim: 32 };

describe.skipIf(!train || !test)('RoCL pre-training on the real CIFAR sample (ResNet-8, fastest backend)', () => {
  const task = roclTask(SMALL);
  let encoder: ResnetEncoder;
  let heads: PretextHeads;
  let epochs: Array<Extract<PretrainEvent, { type: 'epoch-end' }>>;
  let before: number;
  let initial: number;

  /** Held-out instance-discrimination accuracy: two seeded views of the 256 test images, inference mode (chance 1/511). */
  const heldOutAccuracy = () => {
    const images = imagesFromUint8(test!.images, test!.count);
    const context: PretextContext = { encoder, heads, training: false, rng: Rng.fromSeed(9), step: 0 };
    const batch = task.makeBatch(images, Rng.fromSeed(100), context);
    const accuracy = tf.tidy(() => instanceAccuracy(task.embed(context, batch.inputs, false), task.embed(context, batch.targets.otherView as tf.Tensor4D, false)).dataSync()[0]);
    tf.dispose([images, batch.inputs, ...Object.values(batch.targets)]);
    return accuracy;
  };

  /** Pretext loss of 128 test images: clean and after RoCL's instance-wise attack (its ε 8/255, step 0.007, 7 steps). */
  const cleanAndAdversarialLoss = () => {
    const images = imagesFromUint8(test!.images.subarray(0, 128 * 3072), 128);
    const context: PretextContext = { encoder, heads, training: false, rng: Rng.fromSeed(9), step: 0 };
    const batch = task.makeBatch(images, Rng.fromSeed(101), context);
    const adversarial = task.craft!(context, batch.inputs, batch.targets, { ...ROCL_ATTACK, training: false, rng: Rng.fromSeed(4) });
    const [clean, robust] = tf.tidy(() => [batch.inputs, adversarial].map((x) => tf.mean(task.loss(context, x, batch.targets)).dataSync()[0]));
    tf.dispose([images, adversarial, batch.inputs, ...Object.values(batch.targets)]);
    return { clean, robust };
  };

  beforeAll(async () => {
    await useFastestBackend();
    before = tf.memory().numTensors;
    encoder = createResnetEncoder({ architecture: 'resnet8-w16', rng: 3 });
    heads = task.createHeads(encoder, Rng.fromSeed(1).fork('heads')); // the engine's heads for seed 1, to measure them untrained
    initial = heldOutAccuracy();
    for (const head of Object.values(heads)) (head as unknown as { dispose(): void }).dispose();
    epochs = [];
    const result = await pretrain({
      task,
      encoder,
      data: train!,
      config: { seed: 1, epochs: 3, batchSize: 64, optimizer: { learningRate: 0.1 }, attack: { kind: 'pgd' }, knn: { everyEpochs: 0 }, checkpoint: { everyEpochs: 0 }, logEvery: 8 },
      onEvent: (e) => { if (e.type === 'epoch-end') epochs.push(e); },
    });
    heads = result.heads;
  });

  afterAll(() => {
    encoder?.model.dispose();
    for (const head of Object.values(heads ?? {})) (head as unknown as { dispose(): void }).dispose();
  });

  // An untrained encoder already matches views well above chance (colour statistics survive the views), and
  // beating it takes hundreds of steps (README); these 24 steps check the trained encoder stays far above
  // chance while the contrastive training loss falls.
  it('keeps held-out instance discrimination far above chance (0.2%) while the loss falls in 24 steps; the instance-wise attack raises the pretext loss', () => {
    const accuracy = heldOutAccuracy();
    const { clean, robust } = cleanAndAdversarialLoss();
    console.info(`rocl: epoch losses ${epochs.map((e) => e.loss.toFixed(3)).join(' ')}; held-out instance accuracy (chance ${(100 / 511).toFixed(2)}%) ${(100 * initial).toFixed(1)}% → ${(100 * accuracy).toFixed(1)}%; pretext loss clean ${clean.toFixed(3)} → attacked ${robust.toFixed(3)}`);
    expect(accuracy).toBeGreaterThan(10 / 511);
    expect(robust).toBeGreaterThan(clean + 0.1);
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
    console.info(`rocl → fine-tuned: clean ${(100 * result.clean.accuracy).toFixed(1)}%, PGD-3 ${(100 * result.pgd!.accuracy).toFixed(1)}%`);
    expect(result.clean.total).toBe(256);
    expect(result.pgd!.accuracy).toBeLessThanOrEqual(result.clean.accuracy);
    classifier.head.dispose();
  });
});

describe.skipIf(!train)('RoCL checkpoints (tiny encoder, fastest backend)', () => {
  const data = { images: train ? train.images.subarray(0, 64 * 3072) : new Uint8Array(0), count: 64 };
  const config = { seed: 5, epochs: 2, batchSize: 16, logEvery: 1, knn: { everyEpochs: 0 }, checkpoint: { everySteps: 1, everyEpochs: 0 } };
  const run = () => {
    const model = tinyEncoderModel(1);
    return { encoder: { model, featureDim: 16, clone: () => tinyEncoderModel(1) }, task: roclTask(SMALL) };
  };

  beforeAll(async () => {
    await useFastestBackend();
  });

  it('resumes an aborted run to exactly the weights of an uninterrupted one, projection head included', async () => {
    const uninterrupted = run();
    const full = await pretrain({ ...uninterrupted, data, config });
    const store = memoryCheckpointStore();
    const controller = new AbortController();
    const first = run();
    await expect(pretrain({ ...first, data, config, store, signal: controller.signal, onEvent: (e) => { if (e.type === 'step-end' && e.step === 3) controller.abort(); } })).rejects.toThrow(/stopped at step 3 of 8/);
    const resumedRun = run();
    const resumed = await pretrain({ ...resumedRun, data, config, store, resume: true });
    expect(resumed.steps).toBe(8);
    for (const [a, b] of [[uninterrupted.encoder.model, resumedRun.encoder.model], [full.heads.projection, resumed.heads.projection]] as const) {
      const [wa, wb] = [a.getWeights(), b.getWeights()];
      expect(wb.length).toBe(wa.length);
      for (let i = 0; i < wa.length; i++) expect(Array.from(wb[i].dataSync())).toEqual(Array.from(wa[i].dataSync()));
    }
    for (const r of [uninterrupted, first, resumedRun]) r.encoder.model.dispose();
    for (const h of [full.heads, resumed.heads]) for (const m of Object.values(h)) (m as unknown as { dispose(): void }).dispose();
  });
});
