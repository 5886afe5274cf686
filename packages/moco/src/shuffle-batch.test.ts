import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng, type ModelLike, type PretextContext } from '@moco-robust/core';
import { createResnetEncoder } from '@moco-robust/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { mocoTask } from './moco-task';
import { batchPermutation, shuffledForward } from './shuffle-batch';
import { tinyHead } from './test-helpers/tiny-head';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 16;
const GROUPS = 4;

/** Image i is filled with the value i/255, so a model can tell which images it was given, in which order. */
const idImages = () =>
  tf.tidy(() => tf.div(tf.mul(tf.reshape(tf.range(0, N), [N, 1, 1, 1]), tf.ones([N, 4, 4, 3])), 255) as tf.Tensor4D);

/** A weightless encoder that records the order of the images of every forward and returns their mean colour. */
function probe(log: number[][]): ModelLike {
  return {
    name: 'probe',
    trainableWeights: [],
    getWeights: () => [],
    setWeights: () => undefined,
    apply(x: tf.Tensor) {
      log.push(Array.from(tf.tidy(() => tf.round(tf.mul(tf.slice(x, [0, 0, 0, 0], [-1, 1, 1, 1]), 255)).dataSync())));
      return tf.mean(x, [1, 2]);
    },
  };
}

/** The image ids in each batch-norm group (consecutive slices) of one forward. */
const groupsOf = (order: number[]) =>
  Array.from({ length: GROUPS }, (_, g) => order.slice((g * N) / GROUPS, ((g + 1) * N) / GROUPS).sort((a, b) => a - b));

describe('shuffle-BN (MoCo v1 and v2 on one device)', () => {
  it('a permutation and its inverse undo each other', () => {
    const { permutation, inverse } = batchPermutation(10, Rng.fromSeed(3));
    for (let j = 0; j < 10; j++) expect(inverse[permutation[j]]).toBe(j);
    expect(Array.from(permutation).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });

  it.each(['v1', 'v2'] as const)(
    '%s: every query and its key sit in batch-norm groups that hold different images; the keys come back in order',
    (version) => {
      const run = (shuffleBatchNorm: boolean) => {
        const keyLog: number[][] = [];
        const encoder = { model: probe([]), featureDim: 3, clone: () => probe(keyLog) };
        const task = mocoTask({
          version,
          augment: (images) => [images.clone(), images.clone()],
          projectionHead: tinyHead,
          queueSize: N * 2,
          dim: 4,
          shuffleBatchNorm,
        });
        const heads = task.createHeads(encoder, Rng.fromSeed(1));
        const context: PretextContext = { encoder, heads, training: true, rng: Rng.fromSeed(2), step: 0 };
        const images = idImages();
        const before = tf.memory().numTensors;
        const batch = task.makeBatch(images, Rng.fromSeed(7), context);
        const keys = Array.from(batch.targets.keys.dataSync());
        tf.dispose([batch.inputs, ...Object.values(batch.targets)]);
        expect(tf.memory().numTensors).toBe(before);
        images.dispose();
        task.dispose?.();
        tf.dispose(Object.values(heads).flatMap((h) => h.getWeights()));
        return { keyOrder: keyLog[0], keys };
      };
      const queryGroups = groupsOf([...Array(N).keys()]); // the query batch keeps the data order
      const plain = run(false);
      const shuffled = run(true);
      // the defect shuffle-BN removes: without it each key's group is exactly its query's group
      for (let i = 0; i < N; i++) {
        const group = Math.floor(i / (N / GROUPS));
        expect(groupsOf(plain.keyOrder)[group]).toEqual(queryGroups[group]);
      }
      const keyGroups = groupsOf(shuffled.keyOrder);
      for (let i = 0; i < N; i++) {
        const queryGroup = queryGroups[Math.floor(i / (N / GROUPS))];
        const keyGroup = keyGroups.find((g) => g.includes(i))!;
        expect(keyGroup).not.toEqual(queryGroup);
      }
      // un-permuted: row i is image i's key, as without the shuffle (the probe is row-wise)
      for (let j = 0; j < shuffled.keys.length; j++) expect(shuffled.keys[j]).toBeCloseTo(plain.keys[j], 6);
    },
  );

  it('with split batch-norm the keys change (other groups); with one group they do not (a real ResNet)', () => {
    const x = tf.randomUniform([8, 8, 8, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const keys = (groups: number, shuffle: boolean) => {
      const { model } = createResnetEncoder({ architecture: 'resnet6-w8', rng: 5, batchNormGroups: groups });
      const forward = (input: tf.Tensor4D) => model.apply(input, { training: true }) as tf.Tensor2D;
      const out = shuffle ? shuffledForward(forward, x, 11) : tf.tidy(() => forward(x));
      const values = out.dataSync();
      out.dispose();
      model.dispose();
      return Array.from(values);
    };
    const maxDifference = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    expect(maxDifference(keys(1, true), keys(1, false))).toBeLessThan(1e-4);
    expect(maxDifference(keys(2, true), keys(2, false))).toBeGreaterThan(1e-3);
    x.dispose();
  });
});
