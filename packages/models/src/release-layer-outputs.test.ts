import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maxAbsDiff, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createResnetEncoder } from './resnet';
import { releaseLayerOutputs } from './release-layer-outputs';
import { splitBatchNormalization } from './split-batch-normalization';

/** The most bytes tfjs holds in tensors after any kernel while `f` runs. */
function peakBytes(f: () => void): number {
  const engine = tf.engine() as unknown as { runKernelFunc: (p: unknown) => unknown; state: { numBytes: number } };
  const run = engine.runKernelFunc.bind(engine);
  let peak = 0;
  engine.runKernelFunc = (params) => {
    const out = run(params);
    peak = Math.max(peak, engine.state.numBytes);
    return out;
  };
  try {
    f();
  } finally {
    engine.runKernelFunc = run;
  }
  return peak;
}

/**
 * A graph with what the executor must get right: a tensor read twice (residual), an identity layer (dropout at rate 0
 * returns its input), a model nested as a layer, and two outputs.
 */
function graph(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  const conv = (x: tfl.SymbolicTensor, seed: number) =>
    tfl.layers
      .conv2d({
        filters: 8,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tfl.initializers.glorotNormal({ seed }),
      })
      .apply(x) as tfl.SymbolicTensor;
  const bn = (x: tfl.SymbolicTensor) => splitBatchNormalization({ groups: 2 }).apply(x) as tfl.SymbolicTensor;
  const relu = (x: tfl.SymbolicTensor) => tfl.layers.activation({ activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  const stem = relu(bn(conv(input, 1)));
  const branch = bn(conv(relu(bn(conv(stem, 2))), 3));
  const block = relu(tfl.layers.add().apply([stem, branch]) as tfl.SymbolicTensor);
  const kept = tfl.layers.dropout({ rate: 0 }).apply(block) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(kept) as tfl.SymbolicTensor;
  const headInput = tfl.input({ shape: [8] });
  const head = tfl.model({
    inputs: headInput,
    outputs: tfl.layers
      .dense({ units: 4, kernelInitializer: tfl.initializers.glorotNormal({ seed: 4 }) })
      .apply(headInput) as tfl.SymbolicTensor,
  });
  return tfl.model({ inputs: input, outputs: [head.apply(pooled) as tfl.SymbolicTensor, pooled] });
}

/** The loss, its input gradient and its weight gradients of `model` in training or inference mode. */
function run(model: tfl.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor[] {
  const loss = (input: tf.Tensor) => {
    const [logits, features] = model.apply(input, { training }) as tf.Tensor[];
    return tf.add(tf.sum(tf.square(logits)), tf.sum(tf.sin(features))) as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(
    () => loss(x),
    model.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  return [value, tf.grad(loss)(x), ...Object.values(grads)];
}

/** The matrix-product kernels of the input gradient of Σ (first output of `model`). */
async function products(model: tfl.LayersModel, input: tf.Tensor): Promise<string[]> {
  const loss = (i: tf.Tensor) => tf.sum([model.apply(i) as tf.Tensor | tf.Tensor[]].flat()[0]!);
  const info = await tf.profile(() => tf.grad(loss)(input));
  return info.kernels.map((k) => k.name).filter((name) => name === 'BatchMatMul' || name === '_FusedMatMul');
}

describe('releaseLayerOutputs (cpu)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('gives the same outputs and gradients as tfjs-layers, bit for bit, in training and inference mode', () => {
    const released = releaseLayerOutputs(graph());
    const plain = tfl.model({ inputs: released.inputs, outputs: released.outputs }); // same layers, tfjs's executor
    const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 5);
    for (const training of [true, false]) {
      const before = tf.memory().numTensors;
      const ours = run(released, x, training);
      const theirs = run(plain, x, training);
      expect(ours).toHaveLength(theirs.length);
      theirs.forEach((t, i) => expect(maxAbsDiff(t, ours[i])).toBe(0));
      tf.dispose([...ours, ...theirs]);
      expect(tf.memory().numTensors).toBe(before); // nothing leaked, no output of the model disposed
    }
    expect(releaseLayerOutputs(released)).toBe(released); // idempotent
  });

  it('runs a Dense on features as plain ops: no weight gradient in an input gradient (Sequential too)', async () => {
    const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 7);
    const dense = () => tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 3 })] });
    const sequential = dense();
    const features = tf.randomUniform([4, 8], 0, 1, 'float32', 8);
    for (const [model, input] of [
      [graph(), x],
      [sequential, features],
    ] as const) {
      const released = releaseLayerOutputs(model);
      // the forward product and the input gradient's only
      expect(await products(released, input)).toEqual(['BatchMatMul', 'BatchMatMul']);
    }
    // tfjs-layers' fused product (a linear Dense under a tape) computes the kernel's gradient too
    expect(await products(graph(), x)).toEqual(['_FusedMatMul', 'BatchMatMul', 'BatchMatMul']);
    expect(await products(dense(), features)).toEqual(['_FusedMatMul', 'BatchMatMul', 'BatchMatMul']);
  });

  it('holds less at the end of a ResNet forward pass under a gradient tape than tfjs-layers does', () => {
    const released = createResnetEncoder({ architecture: 'resnet6-w8', rng: 1, batchNormGroups: 2 }).model;
    const plain = tfl.model({ inputs: released.inputs, outputs: released.outputs });
    const x = tf.randomUniform([8, 32, 32, 3], 0, 1, 'float32', 6);
    const forwardPeak = (model: tfl.LayersModel) => {
      let peak = 0;
      const gradient = tf.grad((input: tf.Tensor) => {
        let features: tf.Tensor | undefined;
        peak = peakBytes(() => {
          features = model.apply(input, { training: true }) as tf.Tensor;
        });
        return tf.sum(features!);
      })(x);
      gradient.dispose();
      return peak;
    };
    forwardPeak(released); // warm-up: weights built
    const ours = forwardPeak(released);
    const theirs = forwardPeak(plain);
    // the stem and each block's batch-norm and residual-sum outputs go once their ReLU has run
    expect(ours).toBeLessThan(0.8 * theirs);
  });
});
