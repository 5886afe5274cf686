import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maxRelDiff, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2dLayer, withPlainConvolutions } from './conv2d-layer';
import { loadModel, saveModel } from './save-model';

/** The built-in layer and ours with the same weights, applied once to fix their shapes. */
function pair(args: Parameters<typeof tfl.layers.conv2d>[0]) {
  const builtIn = tfl.layers.conv2d(args);
  const ours = conv2dLayer(args);
  tf.tidy(() => {
    builtIn.apply(tf.zeros([1, 9, 9, 3]));
    ours.apply(tf.zeros([1, 9, 9, 3]));
    ours.setWeights(builtIn.getWeights());
  });
  return { builtIn, ours };
}

describe('conv2dLayer: the built-in Conv2D with gradients computed only where needed (cpu)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  for (const args of [
    { filters: 4, kernelSize: 3, strides: 1, padding: 'same', useBias: false },
    { filters: 5, kernelSize: 3, strides: 2, padding: 'same', useBias: true, activation: 'relu' },
    { filters: 2, kernelSize: 1, strides: 2, padding: 'valid', useBias: false },
  ] as const) {
    it(`same outputs and input/filter/bias gradients as tfjs's layer: ${JSON.stringify(args)}`, () => {
      const { builtIn, ours } = pair({ ...args, kernelInitializer: 'glorotNormal', biasInitializer: 'randomNormal' });
      tf.tidy(() => {
        const x = tf.randomUniform([2, 9, 9, 3], 0, 1, 'float32', 1);
        const gradients = (layer: tfl.layers.Layer) => {
          const weights = layer.trainableWeights.map((w) => w.read());
          const f = (input: tf.Tensor) => tf.sum(tf.square(layer.apply(input) as tf.Tensor));
          const { value, grads } = tf.variableGrads(
            () => f(x) as tf.Scalar,
            layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
          );
          return { value, weights, grads: Object.values(grads), input: tf.grad(f)(x) };
        };
        const a = gradients(builtIn);
        const b = gradients(ours);
        expect(maxRelDiff(b.value.dataSync(), a.value.dataSync())).toBeLessThan(1e-6);
        expect(maxRelDiff(b.input, a.input)).toBeLessThan(1e-5);
        expect(b.grads.length).toBe(a.grads.length);
        b.grads.forEach((g, i) => expect(maxRelDiff(g, a.grads[i])).toBeLessThan(1e-5));
      });
    });
  }

  it('an input gradient (an attack) runs no filter gradient; it saves as a plain Conv2D', async () => {
    const { builtIn, ours } = pair({ filters: 4, kernelSize: 3, padding: 'same', useBias: false });
    const x = tf.randomUniform([2, 9, 9, 3], 0, 1, 'float32', 2);
    const kernels = async (layer: tfl.layers.Layer) => {
      const info = await tf.profile(() => tf.grad((input: tf.Tensor) => tf.sum(layer.apply(input) as tf.Tensor))(x));
      tf.dispose(info.result);
      return info.kernelNames;
    };
    expect(await kernels(builtIn)).toContain('Conv2DBackpropFilter');
    const names = await kernels(ours);
    expect(names).toContain('Conv2DBackpropInput');
    expect(names).not.toContain('Conv2DBackpropFilter');
    expect(ours.getClassName()).toBe('Conv2D');
    expect(ours.getConfig()).toEqual({ ...builtIn.getConfig(), name: ours.name });
    const before = tf.memory().numTensors;
    await kernels(ours);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it(
    'a saved and loaded model (tfjs built-in Conv2D layers) gets the same ' +
      'gradients: no filter gradient in an input gradient, same values',
    async () => {
      const input = tfl.input({ shape: [9, 9, 3] });
      const hidden = tfl.layers
        .conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: 'glorotNormal' })
        .apply(input) as tfl.SymbolicTensor;
      const output = tfl.layers
        .globalAveragePooling2d({})
        .apply(
          tfl.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu' }).apply(hidden) as tfl.SymbolicTensor,
        ) as tfl.SymbolicTensor;
      const original = tfl.model({ inputs: input, outputs: output });
      let artifacts: tf.io.ModelArtifacts | undefined;
      await saveModel(
        original,
        tf.io.withSaveHandler(async (a) => {
          artifacts = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      const loaded = await loadModel(tf.io.fromMemory(artifacts!));
      const x = tf.randomUniform([2, 9, 9, 3], 0, 1, 'float32', 3);
      const inputGradient = async (model: tfl.LayersModel) => {
        const info = await tf.profile(() =>
          tf.grad((images: tf.Tensor) => tf.sum(model.apply(images) as tf.Tensor))(x),
        );
        const values = (info.result as tf.Tensor).dataSync().slice();
        tf.dispose(info.result);
        return { values, kernels: info.kernelNames };
      };
      const reference = await inputGradient(original);
      const ours = await inputGradient(loaded);
      expect(reference.kernels).toContain('Conv2DBackpropFilter');
      expect(ours.kernels).not.toContain('Conv2DBackpropFilter');
      expect(maxRelDiff(ours.values, reference.values)).toBeLessThan(1e-5);
      expect(withPlainConvolutions(loaded)).toBe(loaded); // idempotent
      expect(loaded.toJSON(null, false)).toEqual(original.toJSON(null, false));
      tf.dispose([x]);
      original.dispose();
      loaded.dispose();
    },
  );
});
