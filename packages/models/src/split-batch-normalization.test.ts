import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DataFormatError, InvalidArgumentError, modelFiles } from '@moco-robust/core';
import { maxAbsDiff, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierHead, composeModels } from './heads';
import { createResnetEncoder } from './resnet';
import { loadModel, saveModel } from './save-model';
import {
  BATCH_NORM_GROUPS_METADATA,
  batchNormGroupsByLayer,
  batchNormGroupsOf,
  restoreBatchNormGroups,
  splitBatchNormalization,
} from './split-batch-normalization';

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

  it('with 1 group is plain batch-norm to rounding: outputs, input, γ and β gradients, moving statistics', () => {
    const plain = layerWith(tfl.layers.batchNormalization(args), 1);
    const split = layerWith(splitBatchNormalization({ ...args, groups: 1 }), 1);
    const x = tf.randomNormal([8, 3, 3, 4], 1, 2, 'float32', 2);
    const weight = tf.randomNormal([8, 3, 3, 4], 0, 1, 'float32', 3); // a loss whose gradient is not uniform
    const loss = (layer: tfl.layers.Layer, input: tf.Tensor) =>
      tf.sum(tf.mul(tf.square(layer.apply(input, { training: true }) as tf.Tensor), weight)) as tf.Scalar;
    const gradients = (layer: tfl.layers.Layer) => {
      const { value, grads } = tf.variableGrads(
        () => loss(layer, x),
        layer.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      return [value, tf.grad((input: tf.Tensor) => loss(layer, input))(x), ...Object.values(grads)];
    };
    const [plainLoss, ...plainGrads] = gradients(plain);
    const [splitLoss, ...splitGrads] = gradients(split);
    expect(maxAbsDiff(plainLoss, splitLoss)).toBeLessThan(1e-5 * Math.abs(plainLoss.dataSync()[0]));
    plainGrads.forEach((grad, i) => {
      const scale = tf.max(tf.abs(grad)).dataSync()[0];
      expect(scale).toBeGreaterThan(0.1); // ∂x, ∂γ, ∂β all non-trivial
      expect(maxAbsDiff(grad, splitGrads[i])).toBeLessThan(1e-5 * scale);
    });
    expect(
      maxAbsDiff(plain.apply(x, { training: true }) as tf.Tensor, split.apply(x, { training: true }) as tf.Tensor),
    ).toBeLessThan(1e-5);
    plain.getWeights().forEach((w, i) => expect(maxAbsDiff(w, split.getWeights()[i])).toBeLessThan(1e-6));
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

/** Saves `model` through `save` into memory and returns the artifacts. */
async function saveToMemory(save: (handler: tf.io.IOHandler) => Promise<unknown>): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts!;
}

/** Batch-norm layers' configs and groups of a model, in order. */
function batchNorms(model: tfl.LayersModel) {
  const layers: tfl.layers.Layer[] = [];
  const visit = (m: tfl.LayersModel) =>
    m.layers.forEach((l) => (l instanceof tfl.LayersModel ? visit(l) : layers.push(l)));
  visit(model);
  return layers
    .filter((l) => l.getClassName() === 'BatchNormalization')
    .map((l) => ({ name: l.name, config: l.getConfig(), groups: batchNormGroupsOf(l) }));
}

describe('split batch-norm survives save and load (cpu)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  /** An encoder with 2 batch-norm groups and a head, trained one step so moving statistics are not the defaults. */
  function splitModel(): tfl.LayersModel {
    const encoder = createResnetEncoder({ architecture: 'resnet6-w8', rng: 7, batchNormGroups: 2 });
    const model = composeModels(
      encoder.model,
      classifierHead({ inputDim: encoder.featureDim, numClasses: 10, rng: 8 }),
    );
    tf.tidy(() => model.apply(tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 1), { training: true }) as tf.Tensor);
    return model;
  }

  /** The two halves of a batch at different brightness, so that split and plain batch-norm differ in training. */
  const batch = () =>
    tf.tidy(() => {
      const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 8);
      return tf.concat([tf.mul(tf.slice(x, 0, 2), 0.2), tf.slice(x, 2, 2)]) as tf.Tensor4D;
    });

  /** Outputs in training mode (one step, moving statistics move), then in inference mode, and the weights after. */
  function outputs(model: tfl.LayersModel, x: tf.Tensor4D) {
    const training = model.apply(x, { training: true }) as tf.Tensor;
    const inference = model.apply(x, { training: false }) as tf.Tensor;
    return { training, inference, weights: model.getWeights() };
  }

  it('loadModel gives the same layer configs, groups and outputs in training and inference mode', async () => {
    const original = splitModel();
    expect(batchNorms(original).every((b) => b.groups === 2)).toBe(true);
    const artifacts = await saveToMemory((handler) => saveModel(original, handler));
    expect(JSON.stringify(artifacts.modelTopology)).not.toMatch(/groups|Split/); // plain BatchNormalization on disk
    expect(Object.keys(artifacts.userDefinedMetadata?.[BATCH_NORM_GROUPS_METADATA] ?? {})).toHaveLength(
      batchNorms(original).length,
    );
    const loaded = await loadModel(tf.io.fromMemory(artifacts));
    expect(batchNorms(loaded)).toEqual(batchNorms(original));
    const x = batch();
    const before = outputs(original, x);
    const after = outputs(loaded, x);
    expect(maxAbsDiff(after.training, before.training)).toBe(0);
    expect(maxAbsDiff(after.inference, before.inference)).toBe(0);
    after.weights.forEach((w, i) => expect(maxAbsDiff(w, before.weights[i])).toBe(0));
    // plain tfjs loads the same file as plain batch-norm: the same inference, different training statistics
    const plain = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(batchNorms(plain).every((b) => b.groups === 1)).toBe(true);
    const plainInference = plain.apply(x, { training: false }) as tf.Tensor;
    const originalInference = (await loadModel(tf.io.fromMemory(artifacts))).apply(x, { training: false }) as tf.Tensor;
    expect(maxAbsDiff(plainInference, originalInference)).toBe(0);
    expect(maxAbsDiff(plain.apply(x, { training: true }) as tf.Tensor, before.training)).toBeGreaterThan(1e-3);
  });

  it('checkpoints (core modelFiles) of an encoder keep the groups too', async () => {
    const encoder = createResnetEncoder({ architecture: 'resnet6-w8', rng: 3, batchNormGroups: 4 });
    const files = await modelFiles(encoder.model, 'encoder');
    const modelJson = JSON.parse(files['encoder/model.json'] as string);
    const weights = files['encoder/weights.bin'] as Uint8Array;
    const loaded = await loadModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData: weights.slice().buffer,
        userDefinedMetadata: modelJson.userDefinedMetadata,
      }),
    );
    expect(batchNormGroupsByLayer(loaded)).toEqual(batchNormGroupsByLayer(encoder.model));
    expect(Object.values(batchNormGroupsByLayer(loaded)).every((g) => g === 4)).toBe(true);
  });

  it('a model without split layers saves no entry; an entry that does not fit the model is refused', async () => {
    const plainEncoder = createResnetEncoder({ architecture: 'resnet6-w8', rng: 3 });
    const artifacts = await saveToMemory((handler) => saveModel(plainEncoder.model, handler));
    expect(artifacts.userDefinedMetadata).toBeUndefined();
    plainEncoder.model.setUserDefinedMetadata({ [BATCH_NORM_GROUPS_METADATA]: { pool: 2 } });
    expect(() => restoreBatchNormGroups(plainEncoder.model)).toThrow(DataFormatError);
    plainEncoder.model.setUserDefinedMetadata({ [BATCH_NORM_GROUPS_METADATA]: { missing_layer: 2 } });
    expect(() => restoreBatchNormGroups(plainEncoder.model)).toThrow(/missing_layer/);
    const bn = batchNorms(plainEncoder.model)[0].name;
    plainEncoder.model.setUserDefinedMetadata({ [BATCH_NORM_GROUPS_METADATA]: { [bn]: 0 } });
    expect(() => restoreBatchNormGroups(plainEncoder.model)).toThrow(DataFormatError);
  });
});
