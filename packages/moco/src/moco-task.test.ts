import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { pgd } from '@moco-robust/attacks';
import { Rng, type PretextAttackSettings, type PretextContext } from '@moco-robust/core';
import { tinyPretextEncoder } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { mocoTask } from './moco-task';
import { flipJitter } from './test-helpers/flip-jitter';
import { tinyHead } from './test-helpers/tiny-head';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mocoTask.craft: the paper’s attack through the exported mocoPgd / mocoFgsm', () => {
  it.each([
    ['MoCo-PGD-3 (v1)', 'v1', { epsilon: 8 / 255, stepSize: 2 / 255, steps: 3, randomStart: true }],
    ['MoCo-FGSM (v2)', 'v2', { epsilon: 8 / 255, stepSize: 8 / 255, steps: 1, randomStart: false }],
  ] as const)('%s gives the same numbers as PGD on the task loss, and leaks nothing', (_name, version, settings) => {
    const encoder = tinyPretextEncoder(3);
    const task = mocoTask({ version, augment: flipJitter, projectionHead: tinyHead, queueSize: 16, dim: 8 });
    const heads = task.createHeads(encoder, Rng.fromSeed(1));
    const context: PretextContext = { encoder, heads, training: false, rng: Rng.fromSeed(2), step: 0 };
    const images = tf.randomUniform([8, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const batch = task.makeBatch(images, Rng.fromSeed(4), context);
    const attack: PretextAttackSettings = { ...settings, training: false, rng: Rng.fromSeed(9) };
    const before = tf.memory().numTensors;
    const crafted = task.craft!(context, batch.inputs, batch.targets, attack);
    const generic = pgd((x) => task.loss(context, x, batch.targets), batch.inputs, { ...attack, rng: Rng.fromSeed(9) });
    expect(Array.from(crafted.dataSync())).toEqual(Array.from(generic.dataSync()));
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(crafted, batch.inputs))).dataSync()[0]);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThanOrEqual(8 / 255 + 1e-6);
    tf.dispose([crafted, generic]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([images, batch.inputs, ...Object.values(batch.targets)]);
    task.dispose?.();
  });
});
