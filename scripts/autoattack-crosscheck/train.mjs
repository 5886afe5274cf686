// Trains a small CIFAR ResNet classifier on the sample's training images and saves it in the tfjs layers format.
// Usage: node scripts/autoattack-crosscheck/train.mjs <out dir> [steps=300] [architecture=resnet6-w8]
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, selectBackend, Sgd } from '@moco-robust/core';
import { classifierHead, composeModels, createResnetEncoder, saveModel } from '@moco-robust/models';
import { readCifar } from './cifar.mjs';

const [out, stepsArg, architecture = 'resnet6-w8'] = process.argv.slice(2);
if (!out) throw new Error('usage: train.mjs <out dir> [steps] [architecture]');
const steps = Number(stepsArg ?? 300);
const selection = await selectBackend();
console.error(`backend ${selection.name ?? JSON.stringify(selection)}`);
const images = [];
const labels = [];
for (let b = 1; b <= 5; b++) {
  const part = readCifar(`data_batch_${b}.bin`, 1017);
  images.push(part.images);
  labels.push(part.labels);
}
const n = 5 * 1017;
const x = tf.tensor4d(Float32Array.from(images.flatMap((a) => Array.from(a))), [n, 32, 32, 3]);
const y = tf.tensor1d(Int32Array.from(labels.flatMap((a) => Array.from(a))), 'int32');
const encoder = createResnetEncoder({ architecture, rng: 1 });
const model = composeModels(
  encoder.model,
  classifierHead({ inputDim: encoder.featureDim, rng: 2 }),
  'classifier_model',
);
const variables = model.trainableWeights.map((w) => w.read());
const sgd = new Sgd({ learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4 });
const batch = 64;
const perEpoch = Math.floor(n / batch);
for (let step = 0; step < steps; step++) {
  const start = (step % perEpoch) * batch;
  const { value, grads } = tf.variableGrads(
    () =>
      tf.tidy(() => {
        const xb = tf.slice(x, [start, 0, 0, 0], [batch, -1, -1, -1]);
        const flipped = step % 2 === 1 ? tf.reverse(xb, 2) : xb; // horizontal flips on every other step
        return tf.mean(crossEntropy(model.apply(flipped, { training: true }), tf.slice(y, [start], [batch])));
      }),
    variables,
  );
  if (step % 50 === 0) console.error(`step ${step} loss ${value.dataSync()[0].toFixed(3)}`);
  sgd.step(variables, grads);
  tf.dispose([value, grads]);
}
await saveModel(model, out);
console.error(`saved ${out}`);
