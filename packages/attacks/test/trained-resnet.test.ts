import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, infoNce, l2Normalize, Sgd } from '@moco-robust/core';
import { mocoPgd, supervisedPgd } from '@moco-robust/attacks';
import { classifierHead, composeModels, createResnetEncoder, projectionHead } from '@moco-robust/models';
import { readCifarSample, useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';

const train = readCifarSample('data_batch_1.bin', 512);

describe.skipIf(!train)('attacks on a small ResNet trained on the real CIFAR sample (fastest backend)', () => {
  let model: ReturnType<typeof composeModels>;
  let encoder: ReturnType<typeof createResnetEncoder>;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;

  beforeAll(async () => {
    await useFastestBackend();
    encoder = createResnetEncoder({ architecture: 'resnet8-w16', rng: 1 });
    model = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 2 }));
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const sgd = new Sgd({ learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    const all = tf.div(tf.cast(tf.tensor4d(train!.images, [512, 32, 32, 3], 'int32'), 'float32'), 255) as tf.Tensor4D;
    const labels = tf.tensor1d(train!.labels, 'int32');
    for (let step = 0; step < 300; step++) {
      const start = (step * 64) % 512;
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(
            () =>
              tf.mean(
                crossEntropy(
                  model.apply(tf.slice(all, [start, 0, 0, 0], [64, -1, -1, -1]), { training: true }) as tf.Tensor2D,
                  tf.slice(labels, [start], [64]),
                ),
              ) as tf.Scalar,
          ),
        variables,
      );
      sgd.step(variables, grads);
      tf.dispose([value, grads]);
    }
    sgd.dispose();
    x = tf.slice(all, [0, 0, 0, 0], [256, -1, -1, -1]);
    y = tf.slice(labels, [0], [256]);
    tf.dispose([all, labels]);
  });

  it('supervised PGD-20 (ε 8/255, α 2/255) drives accuracy far below clean accuracy', () => {
    const accuracy = (input: tf.Tensor4D) =>
      tf.tidy(
        () => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(input) as tf.Tensor, 1), y), 'float32')).dataSync()[0],
      );
    const clean = accuracy(x);
    const adversarial = supervisedPgd(model, x, y, { epsilon: 8 / 255, stepSize: 2 / 255, steps: 20, rng: 3 });
    const robust = accuracy(adversarial);
    console.info(
      `trained ResNet-8 on 512 real images: clean ${(100 * clean).toFixed(1)}%, PGD-20 ${(100 * robust).toFixed(1)}%`,
    );
    expect(clean).toBeGreaterThan(0.6);
    expect(robust).toBeLessThan(clean * 0.3);
  });

  it('MoCo-PGD raises the InfoNCE loss far above the clean one without touching a label', () => {
    const head = projectionHead({ kind: 'mlp', inputDim: encoder.featureDim, outputDim: 32, rng: 4 });
    const query = composeModels(encoder.model, head);
    const views = tf.reverse(x, 2) as tf.Tensor4D; // the key view: horizontal flips
    const keys = tf.tidy(() => l2Normalize(query.predict(views) as tf.Tensor2D));
    // other images as negatives
    const queue = tf.tidy(() => l2Normalize(query.predict(tf.reverse(x, 0) as tf.Tensor4D) as tf.Tensor2D));
    const loss = (input: tf.Tensor4D) =>
      tf.tidy(() => tf.mean(infoNce(query.predict(input) as tf.Tensor2D, keys, queue, 0.2)).dataSync()[0]);
    const clean = loss(x);
    const attacked = loss(
      mocoPgd({ query, keys, queue, temperature: 0.2 }, x, { epsilon: 8 / 255, stepSize: 2 / 255, steps: 10, rng: 5 }),
    );
    console.info(`MoCo InfoNCE: clean ${clean.toFixed(3)}, MoCo-PGD-10 ${attacked.toFixed(3)}`);
    expect(attacked).toBeGreaterThan(clean + 1);
  });
});
