import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mocoFgsm, mocoPgd } from '@moco-robust/attacks';
import { tinyEncoderModel } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { mocoObjective } from './moco-objective';
import { Queue } from './queue';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mocoObjective: the paper’s attack from an encoder, without the ceremony', () => {
  it('builds keys and a queue from images (or takes a Queue) that mocoPgd ascends, and frees what it built', () => {
    const encoder = tinyEncoderModel(2);
    const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const negatives = tf.randomUniform([12, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const objective = mocoObjective(x, { encoder, negatives, batchSize: 5 });
    expect(objective.keys.shape).toEqual([4, 16]);
    expect(objective.queue.shape).toEqual([12, 16]);
    const norms = tf.tidy(() => tf.norm(objective.queue, 'euclidean', 1).dataSync());
    for (const n of norms) expect(n).toBeCloseTo(1, 5);
    const adversarial = mocoPgd(objective, x, { steps: 3, rng: 3 });
    const fgsm = mocoFgsm(objective, x);
    // the attack moves the embedding away from the clean key: cosine similarity drops
    const similarity = (images: tf.Tensor4D) =>
      tf.tidy(() => {
        const q = encoder.apply(images) as tf.Tensor2D;
        const qn = tf.div(q, tf.norm(q, 'euclidean', 1, true));
        return tf.mean(tf.sum(tf.mul(qn, objective.keys), 1)).dataSync()[0];
      });
    expect(similarity(adversarial)).toBeLessThan(similarity(x));
    expect(similarity(fgsm)).toBeLessThan(similarity(x));
    tf.dispose([adversarial, fgsm]);
    objective.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const queue = new Queue({ size: 8, dim: 16, rng: 4 });
    const fromQueue = mocoObjective(x, { encoder, negatives: queue, temperature: 0.1 });
    expect(fromQueue.queue).toBe(queue.keys);
    expect(fromQueue.temperature).toBe(0.1);
    expect(queue.keys.isDisposed).toBe(false);
    const embeddings = mocoObjective(x, { encoder, negatives: fromQueue.queue });
    expect(embeddings.queue).toBe(queue.keys);
    embeddings.dispose();
    expect(() => mocoObjective(x, { encoder, negatives: new Queue({ size: 8, dim: 4, rng: 1 }) })).toThrow(
      /'negatives'.*as wide as the encoder's \(16\)/,
    );
    fromQueue.dispose();
    expect(queue.keys.isDisposed).toBe(false);
    tf.dispose([x, negatives]);
    queue.dispose();
  });
});
