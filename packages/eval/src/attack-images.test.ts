import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '@moco-robust/core';
import { supervisedPgd, type MocoObjective } from '@moco-robust/attacks';
import { sliceImages, sliceLabels, type LabelledImageSet } from '@moco-robust/data';
import { leakedTensors, readCifarSample, tinyEncoderModel, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { attackImages } from './attack-images';
import type { EvaluateEvent } from './evaluate-robustness';

const sample = readCifarSample('test_batch.bin', 6);
const settings = { epsilon: 8 / 255, stepSize: 2 / 255, steps: 2, batchSize: 4, seed: 3 };

describe.skipIf(!sample)('attackImages (tiny model, cpu backend)', () => {
  let model: tfl.LayersModel; // 16 output features, read as 16 classes by the labelled attacks
  let set: LabelledImageSet;
  beforeAll(async () => {
    await useBackend('cpu');
    model = tinyEncoderModel(2);
    set = sample!;
  });

  it("PGD: the bytes and accuracies of supervisedPgd per batch with the batch's rng; one event a batch", async () => {
    const events: EvaluateEvent[] = [];
    const result = await attackImages(set, { attack: 'pgd', model, ...settings, onEvent: (e) => events.push(e) });
    const expected = new Uint8Array(set.images.length);
    let clean = 0;
    let adversarial = 0;
    const rng = Rng.fromSeed(settings.seed);
    for (const start of [0, 4]) {
      const size = Math.min(4, 6 - start);
      const [x, y] = [sliceImages(set, start, size), sliceLabels(set, start, size)];
      const xAdv = supervisedPgd(model, x, y, { ...settings, rng: rng.fork(`batch/${start}`) });
      expected.set(Uint8Array.from(tf.tidy(() => tf.round(tf.mul(xAdv, 255))).dataSync()), start * 3072);
      const predictions = (input: tf.Tensor4D) =>
        tf.tidy(() => tf.argMax(model.apply(input, { training: false }) as tf.Tensor, 1)).dataSync();
      const [p, q] = [predictions(x), predictions(xAdv)];
      for (let i = 0; i < size; i++) {
        if (p[i] === set.labels[start + i]) clean++;
        if (q[i] === set.labels[start + i]) adversarial++;
      }
      tf.dispose([x, y, xAdv]);
    }
    expect(result.images).toBe(6);
    expect(result.adversarial).toEqual(expected);
    expect(result.cleanAccuracy).toBe(clean / 6);
    expect(result.adversarialAccuracy).toBe(adversarial / 6);
    expect(result.representation).toBeUndefined();
    expect(events).toEqual([
      { type: 'eval-progress', done: 4, total: 6, attack: 'pgd' },
      { type: 'eval-progress', done: 6, total: 6, attack: 'pgd' },
    ]);
  });

  it('stays in the ε-ball, reports no accuracy for the label-free instance attack, and leaks no tensor', async () => {
    for (const attack of ['fgsm', 'pgd', 'instance'] as const) {
      let result: Awaited<ReturnType<typeof attackImages>> | undefined;
      expect(await leakedTensors(async () => (result = await attackImages(set, { attack, model, ...settings })))).toBe(
        0,
      );
      let worst = 0;
      for (let i = 0; i < set.images.length; i++)
        worst = Math.max(worst, Math.abs(result!.adversarial[i] - set.images[i]));
      expect(worst, attack).toBeLessThanOrEqual(9); // ε = 8/255, rounded to bytes
      expect(worst, attack).toBeGreaterThan(0);
      expect(result!.cleanAccuracy === undefined, attack).toBe(attack === 'instance');
    }
  });

  it("MoCo-PGD: moves the representation (label-free) through the caller's objective, which it disposes", async () => {
    const queue = tf.tidy(() => {
      const random = tf.randomNormal([8, 16], 0, 1, 'float32', 7);
      return tf.div(random, tf.norm(random, 'euclidean', 1, true)) as tf.Tensor2D;
    });
    let built = 0;
    const objective = (x: tf.Tensor4D): MocoObjective & { dispose(): void } => {
      built++;
      const keys = tf.tidy(() => {
        const embedding = model.apply(x, { training: false }) as tf.Tensor2D; // [N, 16]
        return tf.div(embedding, tf.norm(embedding, 'euclidean', 1, true)) as tf.Tensor2D;
      });
      return { query: model, keys, queue, temperature: 0.2, dispose: () => keys.dispose() };
    };
    let result: Awaited<ReturnType<typeof attackImages>> | undefined;
    const leaked = await leakedTensors(async () => {
      result = await attackImages(set, { attack: 'moco-pgd', objective, ...settings });
    });
    queue.dispose();
    expect(leaked).toBe(0);
    expect(built).toBe(4); // two batches, each crafted and measured with its own objective
    expect(result!.cleanAccuracy).toBeUndefined(); // no classifier given
    const shift = result!.representation!;
    expect(shift.negatives).toBe(8);
    expect(shift.temperature).toBe(0.2);
    expect(shift.cosineSimilarity).toBeLessThan(1);
    expect(shift.adversarialLoss).toBeGreaterThan(shift.cleanLoss);
  });

  it('checks its inputs before any work, naming the argument', async () => {
    await expect(attackImages(set, { attack: 'pgd', model, ...settings, epsilon: 8 })).rejects.toThrow(
      /Invalid argument 'epsilon'.*Divide by 255/,
    );
    await expect(attackImages(set, { attack: 'moco-fgsm', ...settings })).rejects.toThrow(/'objective'/);
    await expect(attackImages(set, { attack: 'pgd', ...settings })).rejects.toThrow(/'model'/);
    await expect(attackImages(set, { attack: 'pgd', model, ...settings, batchSize: 0 })).rejects.toThrow(/'batchSize'/);
    await expect(attackImages({ ...set, count: 7 }, { attack: 'pgd', model, ...settings })).rejects.toThrow(/'set'/);
  });
});
