import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { imagesFromUint8, isPretextTaskV1, Rng, type PretextContext } from '@moco-robust/core';
import { checkPretextContract } from '@moco-robust/pretext-testkit';
import { readCifarSample, tinyPretextEncoder, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import factory, {
  drawPermutations,
  hammingDistance,
  identityPermutation,
  invertPermutation,
  jigsawLabels,
  jigsawTask,
  permutationOfLabel,
  shufflePatches,
} from './index';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Independent host reference: slot (r, c) of the result shows piece order[r·grid + c] of the image [H][W][C]. */
const shuffleHost = (image: number[][][], order: readonly number[], grid: number) => {
  const ph = image.length / grid;
  const pw = image[0].length / grid;
  return image.map((row, y) =>
    row.map((_, x) => {
      const piece = order[Math.floor(y / ph) * grid + Math.floor(x / pw)];
      return image[Math.floor(piece / grid) * ph + (y % ph)][(piece % grid) * pw + (x % pw)];
    }),
  );
};

const sampleImages = (count: number) => {
  const sample = readCifarSample('data_batch_1.bin', count);
  return sample
    ? imagesFromUint8(sample.images, count)
    : (tf.randomUniform([count, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D);
};

describe('jigsaw permutations, labels and shuffles', () => {
  it('shuffles a known 4×4 image in 2×2 pieces: slot j shows piece order[j]', () => {
    const image = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    // pieces (row-major): 0 = [[0,1],[4,5]], 1 = [[2,3],[6,7]], 2 = [[8,9],[12,13]], 3 = [[10,11],[14,15]]
    const out = tf.squeeze(shufflePatches(image, [[3, 0, 2, 1]], 2)).arraySync();
    expect(out).toEqual([
      [10, 11, 0, 1],
      [14, 15, 4, 5],
      [8, 9, 2, 3],
      [12, 13, 6, 7],
    ]);
    expect(() => shufflePatches(image, [[0, 1, 2, 3]], 3)).toThrow(
      /'grid': expected an integer ≥ 1 dividing the image size 4×4/,
    );
    expect(() => shufflePatches(image, [[0, 1, 2]], 2)).toThrow(/'orders\[0\]'/);
  });

  it('matches a host reference on real 32×32 images and restores them exactly under the inverse permutation', () => {
    const images = sampleImages(4);
    const orders = drawPermutations(4, 16, Rng.fromSeed(5));
    const shuffled = shufflePatches(images, orders, 4);
    const originals = images.arraySync();
    const got = shuffled.arraySync();
    for (let i = 0; i < 4; i++) {
      expect(got[i]).toEqual(shuffleHost(originals[i], orders[i], 4));
      expect(got[i]).not.toEqual(originals[i]);
    }
    const restored = shufflePatches(shuffled, orders.map(invertPermutation), 4);
    expect(restored.arraySync()).toEqual(originals);
    tf.dispose([images, shuffled, restored]);
  });

  it('draws distinct, non-identity permutations from a seed', () => {
    const a = drawPermutations(30, 16, Rng.fromSeed(1));
    expect(a).toHaveLength(30);
    expect(new Set(a.map((p) => p.join(','))).size).toBe(30);
    for (const p of a) {
      expect([...p].sort((x, y) => x - y)).toEqual(identityPermutation(16));
      expect(hammingDistance(p, identityPermutation(16))).toBeGreaterThan(0);
      expect(invertPermutation(invertPermutation(p))).toEqual(p);
    }
    expect(drawPermutations(30, 16, Rng.fromSeed(1))).toEqual(a);
    expect(drawPermutations(30, 16, Rng.fromSeed(2))).not.toEqual(a);
    // all 23 non-identity permutations of 4 pieces exist; a 24th does not
    expect(new Set(drawPermutations(23, 4, Rng.fromSeed(3)).map((p) => p.join(','))).size).toBe(23);
    expect(() => drawPermutations(24, 4, Rng.fromSeed(3))).toThrow(/'permutations': expected an integer in \[1, 23\]/);
  });

  it('labels: 0 (identity) with probability 0.1, else uniform over the 30 permutations (labels 1…30)', () => {
    const n = 31000;
    const labels = jigsawLabels(n, 30, 0.1, Rng.fromSeed(4));
    const counts = new Array<number>(31).fill(0);
    for (const l of labels) counts[l]++;
    expect(counts[0] / n).toBeGreaterThan(0.09);
    expect(counts[0] / n).toBeLessThan(0.11);
    for (let c = 1; c <= 30; c++) expect(Math.abs(counts[c] / n - 0.03)).toBeLessThan(0.005);
    expect(permutationOfLabel(0, [[1, 0]], 2)).toEqual([0, 1]);
    expect(permutationOfLabel(1, [[1, 0]], 2)).toEqual([1, 0]);
    expect(() => permutationOfLabel(2, [[1, 0]], 2)).toThrow(/'label'/);
  });

  it('makeBatch: every input restores to its original image under the recorded permutation of its label', () => {
    const images = sampleImages(32);
    const task = jigsawTask({ seed: 7, identityProbability: 0.25 });
    const batch = task.makeBatch(images, Rng.fromSeed(8), {} as PretextContext);
    const labels = Array.from(batch.targets.labels.dataSync());
    expect(batch.targets.labels.dtype).toBe('int32');
    expect(labels.some((l) => l === 0) && labels.some((l) => l > 0)).toBe(true);
    const orders = labels.map((l) => invertPermutation(permutationOfLabel(l, task.permutations, 16)));
    const restored = shufflePatches(batch.inputs, orders, 4);
    expect(restored.arraySync()).toEqual(images.arraySync());
    const inputs = batch.inputs.arraySync();
    const originals = images.arraySync();
    labels.forEach((l, i) => expect(JSON.stringify(inputs[i]) === JSON.stringify(originals[i])).toBe(l === 0));
    tf.dispose([images, restored, batch.inputs, batch.targets.labels]);
  });
});

describe('jigsawTask contract', () => {
  it('is a PretextTaskV1 factory: name jigsaw, combine mean, a 31-way head, per-example loss [N], no leaks', () => {
    const task = factory();
    expect(isPretextTaskV1(task)).toBe(true);
    expect(factory).toBe(jigsawTask);
    expect(task.permutations).toHaveLength(30);
    const encoder = tinyPretextEncoder(1); // small: the check runs forwards and gradients on the pure-JS cpu backend
    // the kit checks loss [8], its gradients, seeded batches in [0, 1], the state round trip and that a step leaks
    // nothing
    const report = checkPretextContract(task, { encoder });
    expect(report).toMatchObject({
      name: 'jigsaw',
      combine: 'mean',
      heads: { classifier: 2 },
      inputShape: [8, 32, 32, 3],
    });
    expect(report.meanLoss).toBeGreaterThan(1); // untrained: near ln 31
    const heads = task.createHeads(encoder, Rng.fromSeed(2));
    expect(tf.tidy(() => (heads.classifier.apply(tf.zeros([1, encoder.featureDim])) as tf.Tensor).shape)).toEqual([
      1, 31,
    ]);
    (heads.classifier as unknown as { dispose(): void }).dispose();
    encoder.model.dispose();
  });

  it('saves its permutations in state() and a task of another seed restores them through JSON', () => {
    const original = jigsawTask({ seed: 1 });
    const other = jigsawTask({ seed: 2 });
    expect(other.permutations).not.toEqual(original.permutations);
    other.loadState(JSON.parse(JSON.stringify(original.state())));
    expect(other.permutations).toEqual(original.permutations);
    expect(other.state()).toEqual(original.state());
    const images = sampleImages(8);
    const [a, b] = [original, other].map((t) => t.makeBatch(images, Rng.fromSeed(3), {} as PretextContext));
    expect(b.inputs.arraySync()).toEqual(a.inputs.arraySync());
    tf.dispose([images, a.inputs, b.inputs, a.targets.labels, b.targets.labels]);

    const saved = original.state() as { permutations: number[][] };
    const broken = (change: Record<string, unknown>) => ({ ...saved, ...change });
    expect(() => other.loadState(null)).toThrow(/'state': expected the state of a jigsaw task/);
    expect(() => other.loadState(broken({ grid: 2 }))).toThrow(/'state.grid'/);
    expect(() => other.loadState(broken({ permutations: saved.permutations.slice(1) }))).toThrow(
      /'state.permutations': expected 30 distinct/,
    );
    expect(() =>
      other.loadState(broken({ permutations: [...saved.permutations.slice(1), saved.permutations[0].slice(0, 15)] })),
    ).toThrow(/'state.permutations\[29\]'/);
    expect(() =>
      other.loadState(broken({ permutations: [...saved.permutations.slice(1), saved.permutations[0 + 1]] })),
    ).toThrow(/not the identity nor a repeat/);
    expect(() =>
      other.loadState(broken({ permutations: [...saved.permutations.slice(1), identityPermutation(16)] })),
    ).toThrow(/'state.permutations\[29\]'/);
    expect(other.permutations).toEqual(original.permutations); // a refused state changes nothing
    expect(() => jigsawTask({ identityProbability: 1.5 })).toThrow(/'identityProbability'/);
    expect(() => jigsawTask({ grid: 1 })).toThrow(/'grid'/);
  });
});
