import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '@moco-robust/core';
import { maxAbsDiff, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createResnetEncoder } from './resnet';
import { batchNormGroupsOf, splitBatchNormalization } from './split-batch-normalization';

const args = { momentum: 0.9, epsilon: 1e-5 };

/** A built layer with non-trivial γ, β and moving statistics (seeded), applied once to fix its shape. */
function layerWith(layer: tfl.layers.Layer, seed: number): tfl.layers.Layer {
  tf.tidy(() => {
    layer.apply(tf.zeros([2, 3, 3, 4]));
    layer.setWeights([
      tf.randomUniform([4], 0.5, 1.5, 'float32', seed),
      tf.randomUniform([4], -0.5, 0.5, 'float32', seed + 1),
      tf.randomUniform([4], -0.2, 0.2, 'float32', seed + 2),
      tf.randomUniform([4], 0.5, 2, 'float32', seed + 3),
    ]);
  });
  return layer;
}

describe('split batch-norm (cpu)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('with 1 group is plain batch-norm: same outputs, gradients and moving statistics, bit for bit', () => {
    const plain = layerWith(tfl.layers.batchNormalization(args), 1);
    const split = layerWith(splitBatchNormalization({ ...args, groups: 1 }), 1);
    const x = tf.randomNormal([8, 3, 3, 4], 1, 2, 'float32', 2);
    const run = (layer: tfl.layers.Layer) =>
      tf.grad((input: tf.Tensor) => tf.sum(tf.square(layer.apply(input, { training: true }) as tf.Tensor)))(x);
    expect(maxAbsDiff(run(plain), run(split))).toBe(0);
    expect(
      maxAbsDiff(plain.apply(x, { training: true }) as tf.Tensor, split.apply(x, { training: true }) as tf.Tensor),
    ).toBe(0);
    plain.getWeights().forEach((w, i) => expect(maxAbsDiff(w, split.getWeights()[i])).toBe(0));
  });

  it(
    'with G groups equals batch-norm on each group slice; ' + 'moving statistics move toward their mean over groups',
    () => {
      const groups = 4;
      const split = layerWith(splitBatchNormalization({ ...args, groups }), 3);
      const x = tf.randomNormal([8, 3, 3, 4], 1, 2, 'float32', 4);
      const slices = tf.split(x, groups, 0);
      const perSlice = slices.map(() => layerWith(tfl.layers.batchNormalization(args), 3));
      const loss = (apply: (input: tf.Tensor) => tf.Tensor) =>
        tf.grad((input: tf.Tensor) =>
          tf.sum(tf.mul(apply(input), tf.reshape(tf.range(0, 8 * 3 * 3 * 4), [8, 3, 3, 4]))),
        );
      const splitOut = split.apply(x, { training: true }) as tf.Tensor;
      const reference = tf.concat(
        slices.map((s, g) => perSlice[g].apply(s, { training: true }) as tf.Tensor),
        0,
      );
      expect(maxAbsDiff(splitOut, reference)).toBeLessThan(1e-5);
      const [mean, variance] = split.getWeights().slice(2);
      const expectedMean = tf.mean(tf.stack(perSlice.map((l) => l.getWeights()[2])), 0);
      const expectedVariance = tf.mean(tf.stack(perSlice.map((l) => l.getWeights()[3])), 0);
      expect(maxAbsDiff(mean, expectedMean)).toBeLessThan(1e-6);
      expect(maxAbsDiff(variance, expectedVariance)).toBeLessThan(1e-6);
      // gradients with respect to the input and to γ, β
      const splitGrad = loss((input) => split.apply(input, { training: true }) as tf.Tensor)(x);
      const referenceGrad = loss((input) =>
        tf.concat(
          tf.split(input, groups, 0).map((s, g) => perSlice[g].apply(s, { training: true }) as tf.Tensor),
          0,
        ),
      )(x);
      expect(maxAbsDiff(splitGrad, referenceGrad)).toBeLessThan(1e-3 * tf.max(tf.abs(referenceGrad)).dataSync()[0]);
      const gammaBeta = (layer: tfl.layers.Layer, input: tf.Tensor) =>
        tf.variableGrads(
          () => tf.sum(tf.square(layer.apply(input, { training: true }) as tf.Tensor)) as tf.Scalar,
          layer.trainableWeights.map((w) => w.read() as tf.Variable),
        ).grads;
      const splitParams = Object.values(gammaBeta(split, x));
      const sliceParams = slices.map((s, g) => Object.values(gammaBeta(perSlice[g], s)));
      splitParams.forEach((grad, i) =>
        expect(maxAbsDiff(grad, tf.addN(sliceParams.map((p) => p[i])))).toBeLessThan(1e-3),
      );
    },
  );

  it(
    'in inference mode uses the moving statistics like plain batch-norm, ' +
      'and refuses a batch not divisible by the groups in training',
    () => {
      const plain = layerWith(tfl.layers.batchNormalization(args), 5);
      const split = layerWith(splitBatchNormalization({ ...args, groups: 4 }), 5);
      const x = tf.randomNormal([6, 3, 3, 4], 0, 1, 'float32', 6);
      expect(
        maxAbsDiff(plain.apply(x, { training: false }) as tf.Tensor, split.apply(x, { training: false }) as tf.Tensor),
      ).toBe(0);
      expect(() => split.apply(x, { training: true })).toThrow(InvalidArgumentError);
      expect(() => splitBatchNormalization({ ...args, groups: 0 })).toThrow(/groups/);
    },
  );

  it(
    'a ResNet with batchNormGroups serialises as plain ' + 'BatchNormalization and leaks no tensor in a training step',
    () => {
      const encoder = createResnetEncoder({ architecture: 'resnet6-w8', rng: 7, batchNormGroups: 2 });
      const bnLayers = encoder.model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
      expect(bnLayers.length).toBeGreaterThan(0);
      expect(bnLayers.every((l) => batchNormGroupsOf(l) === 2)).toBe(true);
      const topology = JSON.stringify(encoder.model.toJSON(null, false));
      expect(topology).not.toContain('groups');
      expect(topology).not.toContain('Split');
      const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 8);
      const variables = encoder.model.trainableWeights.map((w) => w.read() as tf.Variable);
      const step = () => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(encoder.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          variables,
        );
        tf.dispose([value, grads]);
      };
      step();
      const before = tf.memory().numTensors;
      step();
      expect(tf.memory().numTensors).toBe(before);
      // the two groups see different statistics: the output differs from plain batch-norm's
      const plain = createResnetEncoder({ architecture: 'resnet6-w8', rng: 7 });
      plain.model.setWeights(encoder.model.getWeights());
      const halves = tf.concat([tf.mul(tf.slice(x, 0, 2), 0.2), tf.slice(x, 2, 2)]);
      expect(
        maxAbsDiff(
          plain.model.apply(halves, { training: true }) as tf.Tensor,
          encoder.model.apply(halves, { training: true }) as tf.Tensor,
        ),
      ).toBeGreaterThan(1e-3);
      encoder.model.dispose();
      plain.model.dispose();
    },
  );
});
