import * as tf from '@tensorflow/tfjs-core';
import { imagesFromUint8, memoryCheckpointStore, Rng, type PretextContext, type PretextEncoder, type PretextHeads } from '@moco-robust/core';
import { pgd } from '@moco-robust/attacks';
import { evaluateRobustness, finetune } from '@moco-robust/eval';
import { createResnetEncoder, type ResnetEncoder } from '@moco-robust/models';
import { pretrain, type PretrainEvent } from '@moco-robust/moco';
import { readCifarSample, tinyEncoderModel, useFastestBackend } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jigsawTask } from './jigsaw-task';

const train = readCifarSample('data_batch_1.bin', 1000);
const test = readCifarSample('test_batch.bin', 512);

beforeAll(async () => {
  await useFastestBackend();
});

const disposeAll = (models: object) => {
  for (const model of Object.values(models)) (model as { dispose(): void }).dispose();
};

// Jigsaw learns far more slowly than rotation: on this sample, 80 steps of PGD-3 pre-training (or 124
// of FGSM) teach a small ResNet only to tell shuffled from unshuffled images; 186 plain steps already
// place 10–13% of the shuffled images (chance 1/30). So accuracy is checked after plain pre-training
// through the same engine, and the adversarial path (PGD on the jigsaw loss, mean of clean and
// adversarial losses) is checked on its own, continuing from that encoder.
describe.skipIf(!train || !test)('jigsaw pre-training on the real CIFAR sample (ResNet-10, fastest backend)', () => {
  const task = jigsawTask({ seed: 11 });
  let encoder: ResnetEncoder;
  let heads: PretextHeads;
  let epochs: Array<Extract<PretrainEvent, { type: 'epoch-end' }>>;

  beforeAll(async () => {
    encoder = createResnetEncoder({ architecture: 'resnet10-w16', rng: 3 });
    epochs = [];
    const result = await pretrain({
      task,
      encoder,
      data: train!,
      config: { seed: 1, epochs: 6, batchSize: 32, optimizer: { learningRate: 0.1 }, attack: { kind: 'none' }, knn: { everyEpochs: 0 }, checkpoint: { everyEpochs: 0 }, logEvery: 31 },
      onEvent: (e) => { if (e.type === 'epoch-end') epochs.push(e); },
    });
    heads = result.heads;
  });

  afterAll(() => {
    encoder?.model.dispose();
    disposeAll(heads ?? {});
  });

  it('places shuffled held-out images well above chance (1/30) and beats always guessing the identity (10%); PGD raises the loss above the clean loss', () => {
    const images = imagesFromUint8(test!.images, test!.count);
    const context: PretextContext = { encoder, heads, training: false, rng: Rng.fromSeed(9), step: 0 };
    const batch = task.makeBatch(images, Rng.fromSeed(9), context);
    // PGD-10 on the first 256 of them (the attack is the slow part)
    const inputs = tf.slice(batch.inputs, 0, 256);
    const targets = { labels: tf.slice(batch.targets.labels, 0, 256) };
    const adversarial = pgd((x) => task.loss(context, x, targets), inputs, { epsilon: 8 / 255, stepSize: 2 / 255, steps: 10, rng: 4 });
    const [accuracy, shuffledAccuracy, clean, robust] = tf.tidy(() => {
      const logits = heads.classifier.apply(encoder.model.apply(batch.inputs, { training: false }) as tf.Tensor) as tf.Tensor2D;
      const correct = tf.cast(tf.equal(tf.argMax(logits, 1), batch.targets.labels), 'float32');
      const shuffled = tf.cast(tf.greater(batch.targets.labels, 0), 'float32');
      return [tf.mean(correct), tf.div(tf.sum(tf.mul(correct, shuffled)), tf.sum(shuffled)), tf.mean(task.loss(context, inputs, targets)), tf.mean(task.loss(context, adversarial, targets))].map((t) => t.dataSync()[0]);
    });
    tf.dispose([images, inputs, targets.labels, adversarial, batch.inputs, ...Object.values(batch.targets)]);
    console.info(`jigsaw: epoch losses ${epochs.map((e) => e.loss.toFixed(3)).join(' ')}; held-out accuracy ${(100 * accuracy).toFixed(1)}% (shuffled images ${(100 * shuffledAccuracy).toFixed(1)}%), loss clean ${clean.toFixed(3)} → PGD-10 ${robust.toFixed(3)}`);
    expect(accuracy).toBeGreaterThan(0.13);
    expect(shuffledAccuracy).toBeGreaterThan(0.065);
    expect(robust).toBeGreaterThan(clean + 0.05);
    expect(epochs[epochs.length - 1].loss).toBeLessThan(epochs[0].loss);
  });

  it('adversarial pre-training (engine PGD on the jigsaw loss) runs with a flat tensor count and leaves only the weights', async () => {
    const before = tf.memory().numTensors;
    const adversarialEpochs: Array<Extract<PretrainEvent, { type: 'epoch-end' }>> = [];
    const result = await pretrain({
      task,
      encoder,
      data: { images: train!.images.subarray(0, 128 * 3072), count: 128 },
      config: { seed: 2, epochs: 2, batchSize: 32, attack: { kind: 'pgd', steps: 2, stepSize: 2 / 255 }, knn: { everyEpochs: 0 }, checkpoint: { everyEpochs: 0 }, logEvery: 4 },
      onEvent: (e) => { if (e.type === 'epoch-end') adversarialEpochs.push(e); },
    });
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(adversarialEpochs[1].numTensors).toBe(adversarialEpochs[0].numTensors);
    disposeAll(result.heads);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fine-tunes and evaluates with @moco-robust/eval like a MoCo encoder', async () => {
    const subset = { images: train!.images.subarray(0, 256 * 3072), labels: train!.labels.subarray(0, 256), count: 256 };
    const { classifier } = await finetune({ encoder: encoder.model, train: subset, config: { seed: 2, epochs: 1, batchSize: 64, validationSize: 0, loss: 'mixed', attack: { steps: 2 }, logEvery: 100 } });
    const result = evaluateRobustness(classifier.model, { images: test!.images.subarray(0, 128 * 3072), labels: test!.labels.subarray(0, 128), count: 128 }, { attacks: ['clean', 'pgd'], settings: { pgdSteps: 3, seed: 1 } });
    console.info(`jigsaw → fine-tuned: clean ${(100 * result.clean.accuracy).toFixed(1)}%, PGD-3 ${(100 * result.pgd!.accuracy).toFixed(1)}%`);
    expect(result.clean.total).toBe(128);
    expect(result.pgd!.accuracy).toBeLessThanOrEqual(result.clean.accuracy);
    classifier.head.dispose();
  });
});

describe.skipIf(!train)('jigsaw checkpoints (tiny encoder)', () => {
  const data = train ? { images: train.images.subarray(0, 64 * 3072), count: 64 } : { images: new Uint8Array(0), count: 0 };
  const tinyEncoder = (): PretextEncoder & { model: ReturnType<typeof tinyEncoderModel> } => {
    const model = tinyEncoderModel(1);
    return { model, featureDim: 16, clone: () => tinyEncoderModel(1) };
  };
  const run = (seed: number, extra: { store?: ReturnType<typeof memoryCheckpointStore>; resume?: boolean; abortAt?: number } = {}) => {
    const controller = new AbortController();
    const task = jigsawTask({ seed });
    const encoder = tinyEncoder();
    const done = pretrain({
      task, encoder, data, store: extra.store, resume: extra.resume, signal: controller.signal,
      config: { seed: 5, epochs: 2, batchSize: 16, attack: { kind: 'pgd', steps: 1 }, logEvery: 1, knn: { everyEpochs: 0 }, checkpoint: { everySteps: 1, everyEpochs: 0 } },
      onEvent: (e) => { if (e.type === 'step-end' && e.step === extra.abortAt) controller.abort(); },
    });
    return { task, encoder, done };
  };

  it('saves the permutations with the checkpoint: a run resumed with another seed uses them and ends with the uninterrupted weights', async () => {
    const uninterrupted = run(1);
    const { heads } = await uninterrupted.done;
    const store = memoryCheckpointStore();
    const aborted = run(1, { store, abortAt: 3 });
    await expect(aborted.done).rejects.toThrow(/stopped at step 3 of 8/);
    const resumed = run(2, { store, resume: true });
    expect(resumed.task.permutations).not.toEqual(uninterrupted.task.permutations);
    const { heads: resumedHeads } = await resumed.done;
    expect(resumed.task.permutations).toEqual(uninterrupted.task.permutations);
    const a = uninterrupted.encoder.model.getWeights();
    const b = resumed.encoder.model.getWeights();
    for (let i = 0; i < a.length; i++) expect(Array.from(b[i].dataSync())).toEqual(Array.from(a[i].dataSync()));
    for (const x of [uninterrupted, aborted, resumed]) x.encoder.model.dispose();
    disposeAll({ ...heads, ...Object.fromEntries(Object.entries(resumedHeads).map(([k, v]) => [`r${k}`, v])) });
  });
});
