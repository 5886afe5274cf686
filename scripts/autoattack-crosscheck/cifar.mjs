// Minimal reader of the official CIFAR-10 binary format (1 label byte + R, G, B planes) → NHWC floats in [0, 1].
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';

export const SAMPLE_DIR = '/work/shared/datasets/cifar10-sample/cifar-10-batches-bin';

/** The first `count` records of `file`: `{ images: Float32Array [count·32·32·3], labels: Int32Array }`. */
export function readCifar(file, count) {
  const bytes = readFileSync(join(SAMPLE_DIR, file));
  const images = new Float32Array(count * 3072);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const record = bytes.subarray(i * 3073, (i + 1) * 3073);
    labels[i] = record[0];
    for (let p = 0; p < 1024; p++)
      for (let c = 0; c < 3; c++) images[i * 3072 + p * 3 + c] = record[1 + c * 1024 + p] / 255;
  }
  return { images, labels };
}

/**
 * The images among the first `count` test records that `model` classifies correctly: `{ x, y, indices }` (the tensors
 * of those images and labels, and their record numbers).
 */
export function correctlyClassified(model, count) {
  const { images, labels } = readCifar('test_batch.bin', count);
  const all = tf.tensor4d(images, [count, 32, 32, 3]);
  const correct = tf.tidy(() => tf.equal(tf.argMax(model.predict(all), 1), tf.tensor1d(labels, 'int32')).dataSync());
  const indices = [...correct.keys()].filter((i) => correct[i]);
  const x = tf.gather(all, indices);
  all.dispose();
  return {
    x,
    y: tf.tensor1d(
      indices.map((i) => labels[i]),
      'int32',
    ),
    indices,
  };
}
