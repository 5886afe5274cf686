import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, memoryCheckpointStore } from '@moco-robust/core';
import { tinyEncoderModel } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkClassifierData } from './check-model-data';
import { evaluateCorruptions, type CorruptionBlock } from './evaluate-corruptions';
import { evaluateRobustness } from './evaluate-robustness';
import { finetune } from './finetune';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A linear classifier on [size, size, 3] images with `classes` outputs. */
function linearClassifier(classes: number, size = 32): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [size, size, 3] }),
      tfl.layers.dense({ units: classes, kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }),
    ],
  });
}

/** `count` grey 32×32 images with the given labels. */
function imageSet(labels: number[]) {
  return {
    images: new Uint8Array(labels.length * 32 * 32 * 3).fill(120),
    labels: Int32Array.from(labels),
    count: labels.length,
  };
}

/** The error `run` rejects or throws with, checked to be an `InvalidArgumentError` that leaked no tensor. */
async function refusal(run: () => unknown): Promise<InvalidArgumentError> {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  return caught as InvalidArgumentError;
}

describe('evaluation checks the model against the data before any work', () => {
  const ten = linearClassifier(10);
  const five = linearClassifier(5);

  it("returns the model's output width and accepts labels below it", () => {
    expect(checkClassifierData(ten, imageSet([0, 9, 3]))).toBe(10);
    const forward = (x: tf.Tensor4D) => tf.tidy(() => tf.reshape(tf.mean(x, [1, 2]), [-1, 3]) as tf.Tensor2D);
    expect(checkClassifierData(forward, imageSet([0, 2, 1]))).toBe(3);
  });

  it('evaluateRobustness refuses labels ≥ the width of a 5-class model, naming test.labels', async () => {
    const error = await refusal(() => evaluateRobustness(five, imageSet([0, 7, 9, 3]), { attacks: ['clean', 'fgsm'] }));
    expect(error.argument).toBe('test.labels');
    expect(error.message).toMatch(/\[0, 5\) \(the model has 5 outputs\).*label 7 at index 1/);
  });

  it('evaluateRobustness refuses a numClasses the model does not have, and a model for other image sizes', async () => {
    const wrongCount = await refusal(() => evaluateRobustness(five, imageSet([0, 1]), { numClasses: 10 }));
    expect(wrongCount.argument).toBe('model');
    expect(wrongCount.message).toMatch(/10 outputs.*5 outputs/);
    const small = linearClassifier(10, 16);
    const wrongSize = await refusal(() => evaluateRobustness(small, imageSet([0, 1])));
    expect(wrongSize.argument).toBe('model');
    expect(wrongSize.message).toMatch(/\[N, 32, 32, 3\].*\[N, 16, 16, 3\]/);
  });

  it('evaluateRobustness reads the width of a function model and refuses labels beyond it', async () => {
    const forward = (x: tf.Tensor4D) => tf.tidy(() => tf.reshape(tf.mean(x, [1, 2]), [-1, 3]) as tf.Tensor2D);
    const error = await refusal(() => evaluateRobustness(forward, imageSet([0, 1, 4])));
    expect(error.message).toMatch(/label 4 at index 2/);
  });

  it('evaluateCorruptions refuses a block whose labels exceed the model, naming the block', async () => {
    const good = imageSet([0, 1, 2, 3]);
    const blocks: CorruptionBlock[] = [
      { corruption: 'fog', severity: 1, ...good },
      { corruption: 'fog', severity: 2, ...imageSet([0, 1, 2, 8]) },
    ];
    const error = await refusal(() => evaluateCorruptions(five, blocks));
    expect(error.argument).toBe('blocks (fog severity 2).labels');
    const result = await evaluateCorruptions(ten, blocks);
    expect(result.results).toHaveLength(2);
  });
});

describe('finetune checks the encoder and the labels before writing anything', () => {
  const config = { epochs: 1, batchSize: 2, validationSize: 0, loss: 'standard' as const, logEvery: 100 };

  it('refuses labels ≥ numClasses, encoders for other sizes or without features; the store stays empty', async () => {
    const store = memoryCheckpointStore();
    const encoder = tinyEncoderModel(1);
    const labels = await refusal(() =>
      finetune({ encoder, train: imageSet([0, 1, 2, 3]), numClasses: 3, config, store }),
    );
    expect(labels.argument).toBe('train.labels');
    expect(labels.message).toMatch(/label 3 at index 3/);
    const small = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [16, 16, 3] })] });
    const size = await refusal(() => finetune({ encoder: small, train: imageSet([0, 1, 2, 3]), config, store }));
    expect(size.argument).toBe('encoder');
    const spatial = tfl.sequential({
      layers: [tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 2, kernelSize: 3 })],
    });
    const features = await refusal(() => finetune({ encoder: spatial, train: imageSet([0, 1, 2, 3]), config, store }));
    expect(features.argument).toBe('encoder');
    expect(features.message).toMatch(/features \[N, d\].*\[N, 30, 30, 2\]/);
    expect(await store.latest()).toBeUndefined();
  });
});
