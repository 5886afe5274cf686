import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { isPretextTaskV1, Rng, type PretextContext } from '@moco-robust/core';
import { checkPretextContract } from '@moco-robust/pretext-testkit';
import { readCifarSample, tinyPretextEncoder, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import factory, { balancedRotationLabels, rotateBatch, rotateImages, rotationTask } from './index';

beforeAll(async () => {
  await useBackend('cpu');
});

/**
 * Independent host reference: image [S][S][C] rotated counter-clockwise by k·90° (out[i][j] = in[j][S−1−i], k
 * times).
 */
const rotateHost = (image: number[][][], k: number): number[][][] => {
  let out = image;
  for (let t = 0; t < k; t++) {
    const s = out.length;
    const source = out;
    out = source.map((_, i) => source.map((__, j) => source[j][s - 1 - i]));
  }
  return out;
};

const counts = (labels: ArrayLike<number>) => [0, 1, 2, 3].map((k) => Array.from(labels).filter((l) => l === k).length);

describe('rotation labels and images', () => {
  it('rotates a known 3×3 image counter-clockwise by 0, 90, 180 and 270 degrees', () => {
    const image = tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 3, 1]);
    const rotated = [0, 1, 2, 3].map((k) => tf.squeeze(rotateBatch(image, k)).arraySync());
    expect(rotated[0]).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
    expect(rotated[1]).toEqual([
      [2, 5, 8],
      [1, 4, 7],
      [0, 3, 6],
    ]);
    expect(rotated[2]).toEqual([
      [8, 7, 6],
      [5, 4, 3],
      [2, 1, 0],
    ]);
    expect(rotated[3]).toEqual([
      [6, 3, 0],
      [7, 4, 1],
      [8, 5, 2],
    ]);
    // per-image rotations pick each image's own
    const batch = tf.concat([image, tf.add(image, 10), tf.add(image, 20)]) as tf.Tensor4D;
    const mixed = rotateImages(batch, [3, 0, 1])
      .arraySync()
      .map((x) => x.map((row) => row.map((p) => p[0])));
    expect(mixed[0]).toEqual([
      [6, 3, 0],
      [7, 4, 1],
      [8, 5, 2],
    ]);
    expect(mixed[1]).toEqual([
      [10, 11, 12],
      [13, 14, 15],
      [16, 17, 18],
    ]);
    expect(mixed[2]).toEqual([
      [22, 25, 28],
      [21, 24, 27],
      [20, 23, 26],
    ]);
    expect(() => rotateImages(batch, [0, 4, 1])).toThrow(/'rotations\[1\]': expected an integer in \{0, 1, 2, 3\}/);
    expect(() => rotateImages(tf.zeros([1, 2, 3, 1]) as tf.Tensor4D, [0])).toThrow(/square images/);
  });

  it('balances the labels within a batch, in a seeded order', () => {
    expect(counts(balancedRotationLabels(64, Rng.fromSeed(1)))).toEqual([16, 16, 16, 16]);
    for (const n of [1, 6, 10, 127]) {
      const c = counts(balancedRotationLabels(n, Rng.fromSeed(n)));
      expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
      expect(c.reduce((a, b) => a + b)).toBe(n);
    }
    expect(Array.from(balancedRotationLabels(32, Rng.fromSeed(3)))).toEqual(
      Array.from(balancedRotationLabels(32, Rng.fromSeed(3))),
    );
    expect(Array.from(balancedRotationLabels(32, Rng.fromSeed(3)))).not.toEqual(
      Array.from(balancedRotationLabels(32, Rng.fromSeed(4))),
    );
  });

  it(
    'makeBatch: each input is its image rotated by exactly its ' +
      'label (real CIFAR images), labels balanced, deterministic',
    () => {
      const sample = readCifarSample('data_batch_1.bin', 8);
      const images = sample
        ? tf.tidy(() => tf.div(tf.tensor4d(sample.images, [8, 32, 32, 3], 'float32'), 255) as tf.Tensor4D)
        : (tf.randomUniform([8, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D);
      const task = factory();
      const batch = task.makeBatch(images, Rng.fromSeed(7), {} as PretextContext);
      const labels = Array.from(batch.targets.labels.dataSync());
      expect(batch.targets.labels.dtype).toBe('int32');
      expect(counts(labels)).toEqual([2, 2, 2, 2]);
      const originals = images.arraySync();
      const inputs = batch.inputs.arraySync();
      for (let i = 0; i < 8; i++) {
        // the one rotation of the original that gives the input is the label
        const matches = [0, 1, 2, 3].filter(
          (k) => JSON.stringify(rotateHost(originals[i], k)) === JSON.stringify(inputs[i]),
        );
        expect(matches).toEqual([labels[i]]);
      }
      const again = task.makeBatch(images, Rng.fromSeed(7), {} as PretextContext);
      expect(Array.from(again.targets.labels.dataSync())).toEqual(labels);
      tf.dispose([images, batch.inputs, batch.targets.labels, again.inputs, again.targets.labels]);
    },
  );
});

describe('rotationTask contract', () => {
  it('is a PretextTaskV1 factory: name rotation, combine mean, a 4-way head, per-example loss [N], no leaks', () => {
    const task = factory();
    expect(isPretextTaskV1(task)).toBe(true);
    expect(factory).toBe(rotationTask);
    const encoder = tinyPretextEncoder(1); // small: the check runs forwards and gradients on the pure-JS cpu backend
    // the kit checks loss [8], its gradients, seeded batches in [0, 1], the state round trip and that a step leaks
    // nothing
    const report = checkPretextContract(task, { encoder });
    expect(report).toMatchObject({
      name: 'rotation',
      combine: 'mean',
      heads: { classifier: 2 },
      inputShape: [8, 32, 32, 3],
    });
    expect(report.meanLoss).toBeGreaterThan(0.5); // an untrained 4-way classifier: cross-entropy near ln 4
    const heads = task.createHeads(encoder, Rng.fromSeed(2));
    expect(tf.tidy(() => (heads.classifier.apply(tf.zeros([1, encoder.featureDim])) as tf.Tensor).shape)).toEqual([
      1, 4,
    ]);
    (heads.classifier as unknown as { dispose(): void }).dispose();
    encoder.model.dispose();
  });

  it('round-trips its state through JSON and refuses another task’s state', () => {
    const task = rotationTask();
    const saved = JSON.parse(JSON.stringify(task.state()));
    const restored = rotationTask();
    restored.loadState(saved);
    expect(restored.state()).toEqual(task.state());
    expect(() => restored.loadState({ task: 'jigsaw', permutations: [] })).toThrow(
      /'state': expected the state of a rotation task/,
    );
    expect(() => rotationTask({ augment: 3 as never })).toThrow(/'augment'/);
  });
});
