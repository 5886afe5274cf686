// Uses only the package's public exports (the built dist), on models nobody here wrote.
import { createServer } from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { fgsm, mocoPgd, supervisedPgd } from '@moco-robust/attacks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let url = '';
let close = () => {};

beforeAll(async () => {
  await tf.setBackend('cpu');
  // a Keras-style classifier built and saved by "someone else": files on disk, served over http
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [16, 16, 3],
        filters: 6,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 5, kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }) }),
    ],
  });
  const dir = await mkdtemp(join(tmpdir(), 'mr-outside-'));
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      await writeFile(
        join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: artifacts.modelTopology,
          format: 'layers-model',
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      await writeFile(join(dir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const server = createServer(async (request, response) => {
    try {
      response.end(await readFile(join(dir, (request.url ?? '/').slice(1))));
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/model.json`;
  close = () => server.close();
});

afterAll(() => close());

describe('attacking models from outside, through the public exports', () => {
  it(
    'attacks a model loaded with tf.loadLayersModel from ' +
      'files: FGSM and PGD stay in the ε-ball and raise the loss',
    async () => {
      const model = await tfl.loadLayersModel(url);
      const x = tf.randomUniform([8, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const y = tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32');
      const loss = (input: tf.Tensor4D) =>
        tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 5), model.predict(input) as tf.Tensor).dataSync()[0]);
      for (const adversarial of [fgsm(model, x, y), supervisedPgd(model, x, y, { steps: 10, rng: 4 })]) {
        expect(tf.max(tf.abs(tf.sub(adversarial, x))).dataSync()[0]).toBeLessThanOrEqual(8 / 255 + 1e-6);
        expect(loss(adversarial)).toBeGreaterThan(loss(x));
      }
    },
  );

  it('attacks a plain function model, and runs the label-free MoCo-PGD on a function encoder', () => {
    const w = tf.randomNormal([16 * 16 * 3, 4], 0, 0.05, 'float32', 5);
    const logits = (input: tf.Tensor4D) => tf.matMul(tf.reshape(input, [input.shape[0], -1]), w) as tf.Tensor2D;
    const x = tf.randomUniform([4, 16, 16, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const adversarial = supervisedPgd(logits, x, tf.tensor1d([0, 1, 2, 3], 'int32'), { steps: 5, rng: 7 });
    expect(adversarial.shape).toEqual(x.shape);
    const keys = tf.tidy(() => {
      const k = logits(tf.reverse(x, 2) as tf.Tensor4D);
      return tf.div(k, tf.norm(k, 'euclidean', 1, true)) as tf.Tensor2D;
    });
    const queue = tf.tidy(() => {
      const q = tf.randomNormal([16, 4], 0, 1, 'float32', 8);
      return tf.div(q, tf.norm(q, 'euclidean', 1, true)) as tf.Tensor2D;
    });
    const moco = mocoPgd({ query: logits, keys, queue, temperature: 0.2 }, x, { steps: 5, rng: 9 });
    expect(tf.max(tf.abs(tf.sub(moco, x))).dataSync()[0]).toBeLessThanOrEqual(8 / 255 + 1e-6);
  });
});
