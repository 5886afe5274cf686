// A model's inference passes outside a gradient tape keep their weight transforms (a batch-norm's factor and shift,
// wasm's batch-norm-scaled filter) from one call to the next while the weights stay the same: checked for values
// against the cpu backend (which runs the layers one by one), for staleness after the weights change, for gradients
// taken in inference mode after a cached pass, and for tensors after `dispose`.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type BackendName, selectBackend } from '@moco-robust/core';
import { CONV_AFFINE_KERNEL } from '@moco-robust/core/kernels';
import { availableTestBackends, maxRelDiff, useBackend } from '@moco-robust/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { classifierHead, composeModels } from './heads';
import { keptTransforms, releaseLayerOutputs } from './release-layer-outputs';
import { createResnetEncoder } from './resnet';
import { trainableVariables } from './trainable-variables';

const PACKAGE_NAME: Record<string, BackendName> = { wasm: 'wasm', tensorflow: 'node' };

/** A small classifier (stride-2 stage, 1×1 shortcut) and its batch-norm layers. */
function setup() {
  const encoder = createResnetEncoder({ architecture: { block: 'basic', stages: [1, 1], width: 8 }, rng: 51 });
  const model = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 52 }));
  const batchNorms = encoder.model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  return { model, batchNorms };
}

/** New non-trivial statistics and affine weights for every batch-norm (new tensors: new data). */
function reweigh(batchNorms: ReturnType<typeof setup>['batchNorms'], seed: number): void {
  for (const layer of batchNorms) {
    const shapes = layer.getWeights().map((w) => w.shape);
    const random = (i: number, low: number, high: number) => tf.randomUniform(shapes[i]!, low, high, 'float32', seed++);
    const weights = [random(0, 0.5, 1.5), random(1, -0.5, 0.5), random(2, -0.3, 0.3), random(3, 0.5, 2)];
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}

const infer = (model: tfl.LayersModel, x: tf.Tensor) =>
  tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync() as Float32Array);

/** ∂/∂(every trainable weight) of Σ output·r, in inference mode. */
const weightGradients = (model: tfl.LayersModel, x: tf.Tensor, r: tf.Tensor) =>
  tf.tidy(() => {
    const loss = () => tf.sum(tf.mul(model.apply(x, { training: false }) as tf.Tensor, r)) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, trainableVariables(model));
    return Object.values(grads).map((g) => g.dataSync() as Float32Array);
  });

/** The same computations on the cpu backend (no fused kernel, no cache), then back on `backend`. */
async function onCpu<T>(backend: string, f: () => T): Promise<T> {
  await useBackend('cpu');
  const result = f();
  await selectBackend({ backend: PACKAGE_NAME[backend]! });
  return result;
}

describe('inference passes keep their weight transforms while the weights stay the same', async () => {
  const backends = (await availableTestBackends()).filter((b) => b in PACKAGE_NAME);
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each(backends)(
    '%s: reuses them, makes them again for new weights, never under a gradient tape',
    async (backend) => {
      await selectBackend({ backend: PACKAGE_NAME[backend]! });
      const before = tf.memory().numTensors;
      const { model, batchNorms } = setup();
      reweigh(batchNorms, 60);
      const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 53);
      const r = tf.randomUniform([3, 10], -1, 1, 'float32', 54);
      const made = tf.memory().numTensors;

      const first = infer(model, x);
      const kept = tf.memory().numTensors - made;
      expect(kept, 'the first pass keeps its transforms').toBeGreaterThan(0);
      expect(keptTransforms(model).numTensors).toBe(kept);
      const profile = await tf.profile(() => tf.dispose(model.apply(x, { training: false }) as tf.Tensor));
      const kernels = profile.kernels.map((k) => k.name);
      expect(kernels).toContain(CONV_AFFINE_KERNEL);
      expect(kernels).not.toContain('FusedBatchNorm');
      // a pass with the same weights makes no transform: nothing but the convolutions' work and the head
      expect(kernels.filter((name) => name === 'Mul' || name === 'Rsqrt' || name === 'Sqrt')).toEqual([]);
      expect(tf.memory().numTensors - made).toBe(kept);
      expect(infer(model, x)).toEqual(first);
      const predicted = model.predict(x, { batchSize: 2 }) as tf.Tensor;
      expect(maxRelDiff(predicted.dataSync() as Float32Array, first)).toBeLessThan(1e-6);
      predicted.dispose();
      expect(tf.memory().numTensors - made).toBe(kept);
      expect(maxRelDiff(first, await onCpu(backend, () => infer(model, x)))).toBeLessThan(1e-4);

      // new weights: the next pass reads them, not a stale transform, and frees the old transforms
      reweigh(batchNorms, 70);
      const second = infer(model, x);
      expect(maxRelDiff(second, first)).toBeGreaterThan(1e-2);
      expect(tf.memory().numTensors - made).toBe(kept);
      expect(maxRelDiff(second, await onCpu(backend, () => infer(model, x)))).toBeLessThan(1e-4);

      // a gradient in inference mode after a kept pass still reaches every weight (the batch-norms' γ and β too)
      infer(model, x);
      const gradients = weightGradients(model, x, r);
      const cpuGradients = await onCpu(backend, () => weightGradients(model, x, r));
      expect(gradients.length).toBe(cpuGradients.length);
      gradients.forEach((g, i) => expect(maxRelDiff(g, cpuGradients[i]!), `weight ${i}`).toBeLessThan(1e-4));

      infer(model, x);
      model.dispose();
      tf.dispose([x, r]);
      expect(tf.memory().numTensors, 'dispose frees the kept transforms with the weights').toBe(before);
    },
  );

  it.each(backends)('%s: a Sequential frees what its inner model keeps when disposed', async (backend) => {
    await selectBackend({ backend: PACKAGE_NAME[backend]! });
    const before = tf.memory().numTensors;
    const model = releaseLayerOutputs(
      tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', useBias: false }),
          tfl.layers.batchNormalization(),
          tfl.layers.reLU(),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 2 }),
        ],
      }),
    );
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 55);
    const made = tf.memory().numTensors;
    const first = infer(model, x);
    expect(keptTransforms(model).numTensors).toBeGreaterThan(0);
    expect(tf.memory().numTensors - made).toBe(keptTransforms(model).numTensors);
    expect(maxRelDiff(first, await onCpu(backend, () => infer(model, x)))).toBeLessThan(1e-4);
    infer(model, x); // on this backend again (the cpu pass kept nothing)
    expect(keptTransforms(model).numTensors).toBeGreaterThan(0);
    model.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
