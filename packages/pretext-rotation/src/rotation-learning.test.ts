import * as tf from '@tensorflow/tfjs-core';
import { imagesFromUint8, Rng, type PretextContext, type PretextHeads } from '@moco-robust/core';
import { pgd } from '@moco-robust/attacks';
import { createResnetEncoder, type ResnetEncoder } from '@moco-robust/models';
import {
  checkFinetunesAndEvaluates,
  checkPretrainLeavesNoTensors,
  loadSample,
  recordPretrain,
  type RecordedPretrain,
} from '@moco-robust/pretext-testkit';
import { cifarSampleDir, useFastestBackend } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotationTask } from './rotation-task';

const dir = cifarSampleDir();
const sample = dir ? loadSample({ dir, train: 512, test: 256 }) : undefined;

describe.skipIf(!sample)('rotation pre-training on the real CIFAR sample (ResNet-8, fastest backend)', () => {
  const { train, test } = sample!;
  const task = rotationTask();
  let encoder: ResnetEncoder;
  let heads: PretextHeads;
  let run: RecordedPretrain;
  let before: number;

  beforeAll(async () => {
    await useFastestBackend();
    before = tf.memory().numTensors;
    encoder = createResnetEncoder({ architecture: 'resnet8-w16', rng: 3 });
    run = await recordPretrain({
      task,
      encoder,
      data: train,
      config: {
        seed: 1,
        epochs: 5,
        batchSize: 32,
        optimizer: { learningRate: 0.1 },
        attack: { kind: 'pgd', steps: 3, stepSize: 2 / 255 },
        knn: { everyEpochs: 0 },
        checkpoint: { everyEpochs: 0 },
        logEvery: 16,
      },
    });
    heads = run.heads;
  });

  afterAll(() => {
    encoder?.model.dispose();
    for (const head of Object.values(heads ?? {})) (head as unknown as { dispose(): void }).dispose();
  });

  /** Clean accuracy, clean and PGD-10 losses of the rotation task on the held-out test images (inference mode). */
  const measure = () => {
    const images = imagesFromUint8(test.images, test.count);
    const context: PretextContext = { encoder, heads, training: false, rng: Rng.fromSeed(9), step: 0 };
    const batch = task.makeBatch(images, Rng.fromSeed(9), context);
    const adversarial = pgd((x) => task.loss(context, x, batch.targets), batch.inputs, {
      epsilon: 8 / 255,
      stepSize: 2 / 255,
      steps: 10,
      rng: 4,
    });
    const [accuracy, clean, robust] = tf.tidy(() => {
      const logits = heads.classifier.apply(
        encoder.model.apply(batch.inputs, { training: false }) as tf.Tensor,
      ) as tf.Tensor2D;
      const correct = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), batch.targets.labels), 'float32'));
      return [
        correct,
        tf.mean(task.loss(context, batch.inputs, batch.targets)),
        tf.mean(task.loss(context, adversarial, batch.targets)),
      ].map((t) => t.dataSync()[0]);
    });
    tf.dispose([images, adversarial, batch.inputs, ...Object.values(batch.targets)]);
    return { accuracy, clean, robust };
  };

  it(
    'lifts held-out rotation accuracy well above chance ' + '(25%); PGD raises the pretext loss above the clean loss',
    () => {
      const m = measure();
      const { epochs } = run;
      console.info(
        `rotation: epoch losses ${epochs.map((e) => e.loss.toFixed(3)).join(' ')}; held-out accuracy ` +
          `${(100 * m.accuracy).toFixed(1)}%, loss clean ${m.clean.toFixed(3)} → PGD-10 ${m.robust.toFixed(3)}`,
      );
      expect(m.accuracy).toBeGreaterThan(0.35);
      expect(m.robust).toBeGreaterThan(m.clean + 0.05);
      expect(epochs[epochs.length - 1].loss).toBeLessThan(epochs[0].loss);
    },
  );

  it('keeps the tensor count flat across epochs and leaves only the encoder and head weights', () => {
    // after the measurement above: it too must leave nothing behind
    checkPretrainLeavesNoTensors(run, { tensorsBefore: before, models: [encoder.model, ...Object.values(heads)] });
  });

  it('fine-tunes and evaluates with @moco-robust/eval like a MoCo encoder', async () => {
    const result = await checkFinetunesAndEvaluates({ encoder: encoder.model, train, test });
    console.info(
      `rotation → fine-tuned: clean ${(100 * result.clean).toFixed(1)}%, PGD-3 ${(100 * result.pgd).toFixed(1)}%`,
    );
    expect(result.total).toBe(256);
  });
});
