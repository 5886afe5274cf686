import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, selectBackend } from '@moco-robust/core';
import { maxAbsDiff, useBackend } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifierHead, composeModels, projectionHead } from './heads';
import { createResnetEncoder } from './resnet';
import { countTrainableParameters, trainableVariables } from './trainable-variables';

/** Standard deviation of a weight's values. */
const std = (t: tf.Tensor) => tf.tidy(() => Math.sqrt(tf.moments(t).variance.dataSync()[0]));

describe.each(['cpu', 'wasm'] as const)('CIFAR ResNets (%s)', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend }); // on wasm this registers the project's training kernels
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('has the trainable parameter counts of the standard CIFAR PyTorch ResNets, and their feature widths', () => {
    for (const [architecture, expected, width] of [
      ['resnet18', 11_173_962, 512],
      ['resnet50', 23_520_842, 2048],
    ] as const) {
      const encoder = createResnetEncoder({ architecture, rng: 1 });
      const classifier = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 2 }));
      expect(countTrainableParameters(classifier)).toBe(expected);
      expect(encoder.featureDim).toBe(width);
      expect(encoder.model.outputs[0].shape).toEqual([null, width]);
      classifier.dispose();
    }
  });

  it('maps [0,1] images to features, normalising inside the model with a frozen built-in layer', () => {
    const encoder = createResnetEncoder({ architecture: 'resnet8-w16', rng: 3 });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 4);
    expect((encoder.model.predict(x) as tf.Tensor).shape).toEqual([2, 64]);
    const normalize = encoder.model.getLayer('normalize');
    expect(normalize.trainable).toBe(false);
    const pixel = tf.tensor4d([0.1, 0.5, 0.9], [1, 1, 1, 3]);
    const normalised = (normalize.apply(pixel, { training: true }) as tf.Tensor).dataSync();
    [0.1, 0.5, 0.9].forEach((v, c) =>
      expect(Math.abs(normalised[c] - (v - [0.4914, 0.4822, 0.4465][c]) / [0.2023, 0.1994, 0.201][c])).toBeLessThan(
        1e-6,
      ),
    );
    expect(encoder.model.getLayer('stage2_block1_conv1').name).toBe('stage2_block1_conv1');
    expect(() => createResnetEncoder({ architecture: 'resnet99' as never })).toThrow(InvalidArgumentError);
    expect(() => createResnetEncoder({ architecture: 'resnet6-w8', batchNormGroups: 0 })).toThrow(/batchNormGroups/);
  });

  it(
    'initialises as PyTorch (Kaiming-normal fan-out convs, BN γ=1 ' +
      'β=0, nn.Linear uniform ±1/√fan_in), seeded, with optional zero γ',
    () => {
      const encoder = createResnetEncoder({ architecture: 'resnet18', rng: 5 });
      const kernel = encoder.model.getLayer('stage1_block1_conv1').getWeights()[0]; // [3, 3, 64, 64]
      expect(std(kernel) / Math.sqrt(2 / (9 * 64))).toBeCloseTo(1, 1);
      const [gamma, beta, mean, variance] = encoder.model.getLayer('stage1_block1_bn2').getWeights();
      expect(
        [tf.min(gamma), tf.max(gamma), tf.max(tf.abs(beta)), tf.max(tf.abs(mean)), tf.min(variance)].map(
          (t) => t.dataSync()[0],
        ),
      ).toEqual([1, 1, 0, 0, 1]);
      const head = projectionHead({ kind: 'mlp', inputDim: 512, rng: 6 });
      const [hidden, hiddenBias] = head.getLayer('projection_hidden').getWeights();
      const bound = 1 / Math.sqrt(512);
      expect(tf.max(tf.abs(hidden)).dataSync()[0]).toBeLessThanOrEqual(bound);
      expect(tf.max(tf.abs(hiddenBias)).dataSync()[0]).toBeLessThanOrEqual(bound);
      expect(std(hidden) / (bound / Math.sqrt(3))).toBeCloseTo(1, 1);
      const again = createResnetEncoder({ architecture: 'resnet18', rng: 5 })
        .model.getLayer('stage1_block1_conv1')
        .getWeights()[0];
      const other = createResnetEncoder({ architecture: 'resnet18', rng: 7 })
        .model.getLayer('stage1_block1_conv1')
        .getWeights()[0];
      expect(maxAbsDiff(kernel, again)).toBe(0);
      expect(maxAbsDiff(kernel, other)).toBeGreaterThan(0);
      const zero = createResnetEncoder({
        architecture: { ...{ block: 'bottleneck', stages: [1, 1], width: 4 }, zeroInitLastBatchNorm: true },
        rng: 8,
      });
      expect(tf.max(tf.abs(zero.model.getLayer('stage2_block1_bn3').getWeights()[0])).dataSync()[0]).toBe(0);
      expect(tf.min(zero.model.getLayer('stage2_block1_bn2').getWeights()[0]).dataSync()[0]).toBe(1);
    },
  );

  it(
    'the subsample shortcut equals the strided one: outputs, ' +
      'input gradients and weight gradients, with the same weights',
    () => {
      const build = (shortcut: 'subsample' | 'strided', block: 'basic' | 'bottleneck') =>
        createResnetEncoder({ architecture: { block, stages: [1, 1], width: 4, shortcut }, rng: 5 }).model;
      for (const block of ['basic', 'bottleneck'] as const) {
        const a = build('subsample', block);
        const b = build('strided', block);
        expect(a.layers.map((l) => l.getClassName())).toContain('AveragePooling2D');
        expect(b.layers.map((l) => l.getClassName())).not.toContain('AveragePooling2D');
        b.setWeights(a.getWeights());
        const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 6);
        expect(
          maxAbsDiff(a.apply(x, { training: true }) as tf.Tensor, b.apply(x, { training: true }) as tf.Tensor),
        ).toBeLessThan(1e-5);
        const grads = (m: tfl.LayersModel) => {
          const loss = () => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
          return [
            tf.grad((input: tf.Tensor) => tf.sum(tf.square(m.apply(input, { training: true }) as tf.Tensor)))(x),
            ...Object.values(tf.variableGrads(loss, trainableVariables(m)).grads),
          ];
        };
        const [ga, gb] = [grads(a), grads(b)];
        expect(ga.length).toBe(gb.length);
        ga.forEach((g, i) =>
          expect(maxAbsDiff(g, gb[i])).toBeLessThan(1e-4 * Math.max(1, tf.max(tf.abs(g)).dataSync()[0])),
        );
      }
    },
  );
});
