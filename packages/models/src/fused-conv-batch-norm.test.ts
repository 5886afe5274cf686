// In inference mode on the native backend with oneDNN's convolutions, the executor runs conv → batch-norm
// (→ residual sum) (→ ReLU) as one kernel (core's convAffine): checked against the cpu backend, which runs the
// layers one by one.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, withConstantWeights } from '@moco-robust/core';
import { CONV_AFFINE_KERNEL } from '@moco-robust/core/kernels';
import { maxRelDiff, nativeOpsRun, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierHead, composeModels } from './heads';
import { createResnetEncoder } from './resnet';
import { trainableVariables } from './trainable-variables';

let fused = false;

beforeAll(async () => {
  const selection = await selectBackend({ backend: 'node' }).catch(() => undefined);
  fused = selection?.convolution?.startsWith('oneDNN') ?? false;
  if (!fused)
    console.warn(
      `FUSED CONV + BATCH-NORM NOT CHECKED (${selection?.convolution ?? 'no native backend'}): ` +
        'run `npm run native:build` with libdnnl-dev installed.',
    );
});

/** A small classifier (stride-2 stage, 1×1 shortcut) whose batch-norms have non-trivial statistics. */
function setup() {
  const encoder = createResnetEncoder({ architecture: { block: 'basic', stages: [1, 1], width: 8 }, rng: 31 });
  const model = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 32 }));
  let seed = 40;
  for (const layer of encoder.model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const shapes = layer.getWeights().map((w) => w.shape);
    const random = (i: number, low: number, high: number) => tf.randomUniform(shapes[i]!, low, high, 'float32', seed++);
    layer.setWeights([random(0, 0.5, 1.5), random(1, -0.5, 0.5), random(2, -0.3, 0.3), random(3, 0.5, 2)]);
  }
  const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 33);
  const r = tf.randomUniform([3, 10], -1, 1, 'float32', 34);
  return { model, x, r };
}

/** Inference output, ∂/∂x and ∂/∂(every trainable weight) of Σ output·r in inference mode. */
function inferenceAndGradients({ model, x, r }: ReturnType<typeof setup>): Float32Array[] {
  return tf.tidy(() => {
    const loss = (input: tf.Tensor) => tf.sum(tf.mul(model.apply(input, { training: false }) as tf.Tensor, r));
    const output = model.apply(x, { training: false }) as tf.Tensor;
    const inputGradient = tf.grad(loss)(x);
    const { grads } = tf.variableGrads(() => loss(x) as tf.Scalar, trainableVariables(model));
    return [output, inputGradient, ...Object.values(grads)].map((t) => t.dataSync() as Float32Array);
  });
}

const kernelsOf = async (f: () => tf.TensorContainer) => (await tf.profile(() => f())).kernels.map((k) => k.name);

describe('conv → batch-norm → ReLU fused in inference mode (native backend, oneDNN)', () => {
  it('gives the cpu backend’s outputs, input gradient and weight gradients', async () => {
    if (!fused) return;
    const model = setup();
    const native = inferenceAndGradients(model);
    await useBackend('cpu');
    const cpu = inferenceAndGradients(model);
    await useBackend('tensorflow');
    expect(native.length).toBe(cpu.length);
    native.forEach((values, i) => expect(maxRelDiff(values, cpu[i]!), `output ${i}`).toBeLessThan(1e-4));
  });

  it('runs one kernel per chain in inference mode, and the layers one by one in training mode', async () => {
    if (!fused) return;
    const { model, x } = setup();
    const inference = await kernelsOf(() => model.apply(x, { training: false }) as tf.Tensor);
    // stem, the two blocks' two convolutions and the stride-2 block's shortcut: 6 chains; each block's second one
    // takes the residual sum and the ReLU after it; and the input normalisation, a Dense at every pixel, as a 1×1 one
    expect(inference.filter((name) => name === CONV_AFFINE_KERNEL)).toHaveLength(7);
    // matrix products only in the classifier head, after the last convolution (the normalisation's N·H·W rows are
    // not one)
    const matMuls = inference.flatMap((name, i) => (/MatMul/.test(name) ? [i] : []));
    expect(matMuls.length).toBeGreaterThan(0);
    expect(Math.min(...matMuls)).toBeGreaterThan(inference.lastIndexOf(CONV_AFFINE_KERNEL));
    expect(inference).not.toContain('FusedBatchNorm');
    expect(inference).not.toContain('Conv2D');
    expect(inference).not.toContain('Relu');
    const ops = nativeOpsRun(() => tf.dispose(model.apply(x, { training: false }) as tf.Tensor));
    expect(ops.filter((name) => name === 'MocoConv2DAffineResidual')).toHaveLength(2);
    const training = await kernelsOf(() => model.apply(x, { training: true }) as tf.Tensor);
    expect(training).not.toContain(CONV_AFFINE_KERNEL);
    expect(training.filter((name) => name === 'Conv2D')).toHaveLength(6);
  });

  it('fuses in predict too, batch by batch, with apply’s values', async () => {
    if (!fused) return;
    const { model, x } = setup();
    const predicted = await kernelsOf(() => model.predict(x, { batchSize: 2 }) as tf.Tensor);
    expect(predicted.filter((name) => name === CONV_AFFINE_KERNEL)).toHaveLength(14); // 2 batches: 2 + 1 images
    expect(predicted).not.toContain('FusedBatchNorm');
    const applied = tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync());
    const before = tf.memory().numTensors;
    for (const batchSize of [2, 3, 32]) {
      const output = model.predict(x, { batchSize }) as tf.Tensor;
      expect(output.shape).toEqual([3, 10]);
      expect(maxRelDiff(output.dataSync() as Float32Array, applied as Float32Array)).toBeLessThan(1e-5);
      output.dispose();
    }
    tf.dispose(model.predictOnBatch(x));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves no tensor behind, in an attack’s constant-weights scope too', () => {
    if (!fused) return;
    const model = setup();
    const step = () => tf.dispose(inferenceAndGradients(model) as unknown as tf.Tensor[]);
    const attackStep = () =>
      withConstantWeights(() =>
        tf.tidy(() => tf.grad((input) => tf.sum(model.model.apply(input, { training: false }) as tf.Tensor))(model.x)),
      ).dispose();
    step();
    attackStep();
    const before = tf.memory().numTensors;
    step();
    attackStep();
    attackStep();
    expect(tf.memory().numTensors).toBe(before);
  });
});
