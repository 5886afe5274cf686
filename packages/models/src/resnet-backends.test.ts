import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendName } from '@moco-robust/core';
import {
  availableTestBackends,
  maxAbsDiff,
  readCifarSample,
  useBackend,
  useFastestBackend,
} from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifierHead, composeModels } from './heads';
import { createResnetEncoder } from './resnet';
import { trainableVariables } from './trainable-variables';

/** A small classifier with the subsample shortcut and split batch-norm, and a seeded batch. */
function setup() {
  const encoder = createResnetEncoder({
    architecture: { block: 'basic', stages: [1, 1], width: 8 },
    rng: 21,
    batchNormGroups: 2,
  });
  const model = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 22 }));
  const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 23);
  const y = tf.tensor1d([0, 3, 7, 9], 'int32');
  return { model, x, y }; // x: [4, 32, 32, 3], y: [4]
}

/**
 * Inference output, training output and the gradients of a cross-entropy loss with respect to every trainable weight.
 */
function run({ model, x, y }: ReturnType<typeof setup>): tf.Tensor[] {
  const inference = model.apply(x, { training: false }) as tf.Tensor;
  const training = model.apply(x, { training: true }) as tf.Tensor;
  const loss = () =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  const { grads } = tf.variableGrads(loss, trainableVariables(model));
  return [inference, training, ...Object.values(grads)];
}

const PACKAGE_NAME: Record<string, BackendName> = { cpu: 'cpu', wasm: 'wasm', tensorflow: 'node' };

describe('a ResNet computes the same forward and backward on every backend that loads as on cpu', async () => {
  const backends = (await availableTestBackends()).filter((b) => b !== 'cpu');
  let reference: Float32Array[] = [];
  beforeAll(async () => {
    await useBackend('cpu');
    const parts = setup();
    reference = tf.tidy(() => run(parts)).map((t) => t.dataSync() as Float32Array);
    parts.model.dispose();
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each(backends)('%s (wasm with the project’s training kernels, registered by selectBackend)', async (backend) => {
    await selectBackend({ backend: PACKAGE_NAME[backend] });
    expect(tf.getBackend()).toBe(backend);
    const before = tf.memory().numTensors;
    const parts = setup();
    const outputs = tf.tidy(() => run(parts));
    const results = outputs.map((t) => t.dataSync() as Float32Array);
    tf.dispose([outputs, parts.x, parts.y]);
    parts.model.dispose();
    results.forEach((values, i) => {
      const scale = Math.max(1e-3, ...reference[i].map(Math.abs));
      expect(maxAbsDiff(values, reference[i]) / scale, `${backend} result ${i}`).toBeLessThan(2e-3);
    });
    expect(results.length).toBe(reference.length);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("a ResNet's gradients are bit for bit tfjs-core's with the gradient memory released early", async () => {
  const backends = await availableTestBackends();
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each(backends)('%s', async (backend) => {
    await selectBackend({ backend: PACKAGE_NAME[backend] }); // installs releaseGradientMemory
    const engine = tf.engine() as unknown as { gradients: unknown };
    const released = engine.gradients;
    expect(Object.hasOwn(engine, 'gradients')).toBe(true); // shadows the class's method
    const values = () => {
      const parts = setup();
      const outputs = tf.tidy(() => run(parts));
      const results = outputs.map((t) => Array.from(t.dataSync()));
      tf.dispose([outputs, parts.x, parts.y]);
      parts.model.dispose();
      return results;
    };
    const before = tf.memory().numTensors;
    const early = values();
    delete (engine as { gradients?: unknown }).gradients; // tfjs-core's own pass
    try {
      expect(values()).toEqual(early);
    } finally {
      engine.gradients = released;
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

const batch = readCifarSample('data_batch_1.bin', 64);

describe.skipIf(!batch)('a tiny ResNet overfits 64 real CIFAR images (fastest backend)', () => {
  let backend = '';
  beforeAll(async () => {
    backend = await useFastestBackend();
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('reaches > 90% training accuracy within 150 steps of tf.train.momentum, with a flat tensor count', () => {
    const encoder = createResnetEncoder({ architecture: 'resnet8-w16', rng: 11, batchNormGroups: 2 });
    const model = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 12 }));
    const variables = trainableVariables(model);
    const optimizer = tf.train.momentum(0.05, 0.9);
    // x: [64, 32, 32, 3]
    const x = tf.tidy(() => tf.div(tf.cast(tf.tensor4d(batch!.images, [64, 32, 32, 3], 'int32'), 'float32'), 255));
    const y = tf.tensor1d(batch!.labels, 'int32'); // y: [64]
    const labels = tf.oneHot(y, 10); // labels: [64, 10]
    let accuracy = 0;
    const counts: number[] = [];
    let step = 0;
    for (; step < 150 && accuracy <= 0.9; step++) {
      tf.tidy(() => {
        optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          false,
          variables,
        );
      });
      if (step % 10 === 9) {
        accuracy = tf.tidy(
          () =>
            tf
              .mean(tf.cast(tf.equal(tf.argMax(model.apply(x, { training: false }) as tf.Tensor, 1), y), 'float32'))
              .dataSync()[0],
        );
        counts.push(tf.memory().numTensors);
      }
    }
    expect(accuracy, `backend ${backend}, ${step} steps`).toBeGreaterThan(0.9);
    expect(new Set(counts.slice(1)).size, `tensor counts ${counts}`).toBe(1); // the optimizer's slots appear at step 1
    optimizer.dispose();
    tf.dispose([x, y, labels]);
    model.dispose();
  });
});
