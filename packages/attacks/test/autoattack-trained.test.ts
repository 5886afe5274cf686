import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, Sgd } from '@moco-robust/core';
import { autoAttack, fgsm, supervisedApgd, supervisedPgd } from '@moco-robust/attacks';
import { classifierHead, composeModels } from '@moco-robust/models';
import { readCifarSample, tinyEncoderModel, useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';

const train = readCifarSample('data_batch_1.bin', 512);
const test = readCifarSample('test_batch.bin', 96);
const toImages = (bytes: Uint8Array, n: number) =>
  tf.tidy(() => tf.div(tf.cast(tf.tensor4d(bytes, [n, 32, 32, 3], 'int32'), 'float32'), 255) as tf.Tensor4D);

describe.skipIf(!train || !test)('AutoAttack on a tiny convnet trained on the real CIFAR sample', () => {
  let model: ReturnType<typeof composeModels>;

  beforeAll(async () => {
    await useFastestBackend();
    model = composeModels(tinyEncoderModel(1, 16), classifierHead({ inputDim: 32, rng: 2 }));
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const sgd = new Sgd({ learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    const all = toImages(train!.images, 512);
    const labels = tf.tensor1d(train!.labels, 'int32');
    for (let step = 0; step < 240; step++) {
      const start = (step * 64) % 512;
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const logits = model.apply(tf.slice(all, [start, 0, 0, 0], [64, -1, -1, -1]), { training: true });
            return tf.mean(crossEntropy(logits as tf.Tensor2D, tf.slice(labels, [start], [64]))) as tf.Scalar;
          }),
        variables,
      );
      sgd.step(variables, grads);
      tf.dispose([value, grads]);
    }
    sgd.dispose();
    tf.dispose([all, labels]);
  });

  it('AutoAttack ≤ APGD-CE ≤ PGD-20 ≤ FGSM robust accuracy on the same images, leaking nothing', () => {
    const x = toImages(test!.images, 96);
    const y = tf.tensor1d(test!.labels, 'int32');
    const epsilon = 1 / 255; // small enough that a plainly trained model keeps some robust accuracy
    const accuracy = (input: tf.Tensor4D) => {
      const value = tf.tidy(
        () => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(input) as tf.Tensor, 1), y), 'float32')).dataSync()[0],
      );
      input.dispose();
      return value;
    };
    const clean = accuracy(x.clone());
    // counted after the first predict, which keeps the model's inference-time weight transforms for the next ones
    const before = tf.memory().numTensors;
    const fgsmAccuracy = accuracy(fgsm(model, x, y, { epsilon }));
    const pgdAccuracy = accuracy(supervisedPgd(model, x, y, { epsilon, stepSize: epsilon / 4, steps: 20, rng: 3 }));
    const apgdAccuracy = accuracy(supervisedApgd(model, x, y, { epsilon, steps: 25, rng: 4 }));
    // fewer iterations, targets and queries than AutoAttack's defaults keep the test short
    const auto = autoAttack(model, x, y, { epsilon, seed: 5, steps: 25, targets: 3, queries: 200 });
    auto.adversarial.dispose();
    const line = auto.cascade.map((s) => `${s.attack} −${s.broke}`).join(', ');
    console.info(
      `ε=1/255, 96 test images: clean ${clean}, FGSM ${fgsmAccuracy}, PGD-20 ${pgdAccuracy}, ` +
        `APGD-CE ${apgdAccuracy}, AutoAttack ${auto.robustAccuracy} (${line})`,
    );
    expect(auto.cascade.map((s) => s.attack)).toEqual(['apgd-ce', 'apgd-t', 'fab-t', 'square']);
    expect(clean).toBeGreaterThan(0.25);
    expect(auto.cleanAccuracy).toBeCloseTo(clean, 5);
    expect(fgsmAccuracy).toBeLessThanOrEqual(clean);
    expect(pgdAccuracy).toBeLessThanOrEqual(fgsmAccuracy);
    expect(apgdAccuracy).toBeLessThanOrEqual(pgdAccuracy);
    expect(auto.robustAccuracy).toBeLessThanOrEqual(apgdAccuracy);
    expect(auto.robustAccuracy).toBeLessThan(fgsmAccuracy);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
