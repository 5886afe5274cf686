import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { maxRelDiff } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { withConstantWeights } from './constant-weights';
import { inputGradientByPhases, inputGradientIsConvolution } from './conv2d-gradient';
import { nativeBatchNormKernel, registerAffineBatchNorm } from './node-batch-norm';
import { registerNodeTrainingKernels } from './register-node-training-kernels';

let original: { relu: tf.GradConfig; batchNorm: tf.GradConfig; conv: tf.GradConfig };
let native = false;

beforeAll(async () => {
  // a real gradient registry: tfjs-core alone registers none
  await import('@tensorflow/tfjs-layers').catch(() => undefined);
  native = await import('@tensorflow/tfjs-node').then(
    () => true,
    () => false,
  );
  original = {
    relu: tf.getGradient('Relu'),
    batchNorm: tf.getGradient('FusedBatchNorm'),
    conv: tf.getGradient('Conv2D'),
  };
  registerNodeTrainingKernels();
  if (!native)
    console.warn('NATIVE BACKEND NOT BUILT: the native ReluGrad kernel is not checked (run `npm run native:build`).');
});

/** Values of every named gradient of `config` at `dy` and `saved`. */
function gradientValues(
  config: tf.GradConfig,
  dy: tf.Tensor,
  saved: tf.Tensor[],
  attrs: tf.NamedAttrMap,
  names: string[],
) {
  return tf.tidy(() => {
    const grads = config.gradFunc(dy, saved, attrs) as Record<string, () => tf.Tensor>;
    return Object.fromEntries(names.map((n) => [n, grads[n]().dataSync().slice()]));
  });
}

describe('native-backend training kernels and gradients (checked against tfjs-core on the cpu backend)', () => {
  it('are registered: the Relu and FusedBatchNorm gradients are replaced', () => {
    expect(tf.getGradient('Relu')).not.toBe(original.relu);
    expect(tf.getGradient('FusedBatchNorm')).not.toBe(original.batchNorm);
    expect(tf.getGradient('Conv2D')).not.toBe(original.conv);
  });

  it('the input gradient is a forward convolution exactly when stride 1, no dilation, NHWC, symmetric padding', () => {
    const attrs = { strides: 1, dilations: 1, pad: 'same', dataFormat: 'NHWC' } as const;
    expect(inputGradientIsConvolution([3, 3, 8, 16], attrs)).toBe(true);
    expect(inputGradientIsConvolution([5, 1, 8, 16], { ...attrs, strides: [1, 1] })).toBe(true);
    expect(inputGradientIsConvolution([1, 1, 8, 16], { ...attrs, pad: 'valid' })).toBe(true);
    expect(inputGradientIsConvolution([3, 3, 8, 16], { ...attrs, pad: 'valid' })).toBe(false); // output smaller
    expect(inputGradientIsConvolution([2, 2, 8, 16], attrs)).toBe(false); // 'same' pads one side more
    expect(inputGradientIsConvolution([3, 3, 8, 16], { ...attrs, strides: 2 })).toBe(false);
    expect(inputGradientIsConvolution([3, 3, 8, 16], { ...attrs, dilations: [1, 2] })).toBe(false);
    expect(inputGradientIsConvolution([3, 3, 8, 16], { ...attrs, dataFormat: 'NCHW' })).toBe(false);
  });

  it('the input gradient runs as phase convolutions exactly when 3×3, stride 2, same, NHWC, even input', () => {
    const attrs = { strides: 2, dilations: 1, pad: 'same', dataFormat: 'NHWC' } as const;
    expect(inputGradientByPhases([2, 8, 8, 3], [3, 3, 3, 16], attrs)).toBe(true);
    expect(inputGradientByPhases([2, 8, 6, 3], [3, 3, 3, 16], { ...attrs, strides: [2, 2] })).toBe(true);
    expect(inputGradientByPhases([2, 7, 8, 3], [3, 3, 3, 16], attrs)).toBe(false); // odd: padded 1 before and after
    expect(inputGradientByPhases([2, 8, 8, 3], [5, 5, 3, 16], attrs)).toBe(false);
    expect(inputGradientByPhases([2, 8, 8, 3], [3, 3, 3, 16], { ...attrs, strides: 1 })).toBe(false);
    expect(inputGradientByPhases([2, 8, 8, 3], [3, 3, 3, 16], { ...attrs, pad: 'valid' })).toBe(false);
    expect(inputGradientByPhases([2, 8, 8, 3], [3, 3, 3, 16], { ...attrs, dilations: 2 })).toBe(false);
    expect(inputGradientByPhases([2, 8, 8, 3], [3, 3, 3, 16], { ...attrs, dataFormat: 'NCHW' })).toBe(false);
  });

  it('withConstantWeights makes the phase filters of a strided convolution once and frees them on exit', async () => {
    if (!native) return;
    await tf.setBackend('tensorflow');
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 33) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 3, 5], 0, 0.5, 'float32', 34) as tf.Tensor4D;
    const gradient = () =>
      tf.grad((z: tf.Tensor) => tf.sum(tf.square(tf.conv2d(z as tf.Tensor4D, filter, 2, 'same'))))(x);
    const plain = gradient();
    const before = tf.memory().numTensors;
    const { kernels } = await tf.profile(() =>
      withConstantWeights(() => {
        for (let i = 0; i < 3; i++) {
          const inScope = gradient();
          expect(maxRelDiff(inScope.dataSync(), plain.dataSync())).toBe(0);
          inScope.dispose();
        }
      }),
    );
    expect(tf.memory().numTensors).toBe(before); // the four phase filters were disposed on exit
    expect(kernels.filter((k) => k.name === 'Pack')).toHaveLength(10); // the phases' 3 + 3 + 2 + 2 stacks, once
    expect(kernels.filter((k) => k.name === 'Conv2D')).toHaveLength(3 * 5);
    tf.dispose([x, filter, plain]);
  });

  it('withConstantWeights rotates each filter once: same input gradients, rotations freed on exit', async () => {
    if (!native) return; // the rotated-filter convolution is the native backend's (warned above)
    await tf.setBackend('tensorflow');
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 31) as tf.Tensor4D;
    const weights = tf.variable(tf.randomNormal([3, 3, 3, 5], 0, 0.5, 'float32', 32));
    const gradient = () =>
      tf.grad((z: tf.Tensor) => tf.sum(tf.square(tf.conv2d(z as tf.Tensor4D, weights as tf.Tensor4D, 1, 'same'))))(x);
    const plain = gradient();
    const before = tf.memory().numTensors;
    const inScope = withConstantWeights(() => {
      const first = gradient();
      const cachedRotations = tf.memory().numTensors - before - 1; // besides `first`: the rotation, kept to the end
      const second = gradient();
      // a weight that changes inside the scope is rotated again, never read stale
      tf.tidy(() => weights.assign(tf.mul(weights, 2)));
      const changed = gradient();
      return { first, second, changed, cachedRotations };
    });
    expect(inScope.cachedRotations).toBe(1);
    expect(tf.memory().numTensors).toBe(before + 3); // the three gradients: the rotations were disposed on exit
    expect(maxRelDiff(inScope.first.dataSync(), plain.dataSync())).toBe(0);
    expect(maxRelDiff(inScope.second.dataSync(), plain.dataSync())).toBe(0);
    const doubled = gradient(); // outside the scope, weights still doubled: the reference for `changed`
    expect(maxRelDiff(inScope.changed.dataSync(), doubled.dataSync())).toBe(0);
    expect(maxRelDiff(inScope.changed.dataSync(), plain.dataSync())).toBeGreaterThan(0.5);
    // within one scope, later gradients of the same filter run no Reverse (the rotation is reused)
    const { kernels } = await tf.profile(() =>
      withConstantWeights(() => {
        for (let i = 0; i < 3; i++) tf.dispose(gradient());
      }),
    );
    expect(kernels.filter((k) => k.name === 'Reverse')).toHaveLength(1);
    tf.dispose([x, weights, plain, inScope.first, inScope.second, inScope.changed, doubled]);
  });

  it(
    "conv2d's gradients equal tfjs-core's (Conv2DBackpropInput / -Filter) on cpu and on the native backend, " +
      'for kernels that take the rotated-filter convolution and for those that fall back',
    async () => {
      const cases = [
        { x: [2, 8, 8, 3], filter: [3, 3, 3, 5], strides: 1, pad: 'same' },
        { x: [2, 6, 6, 4], filter: [1, 1, 4, 6], strides: 1, pad: 'valid' },
        { x: [1, 9, 7, 2], filter: [5, 3, 2, 3], strides: 1, pad: 'same' },
        { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' }, // phase convolutions
        { x: [3, 4, 6, 5], filter: [3, 3, 5, 7], strides: 2, pad: 'same' }, // phase convolutions
        { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' }, // odd input: falls back
        { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' }, // falls back
      ] as const;
      const run = async (backend: string, config: tf.GradConfig, c: (typeof cases)[number]) => {
        await tf.setBackend(backend);
        return tf.tidy(() => {
          const x = tf.randomNormal([...c.x], 0, 1, 'float32', 21);
          const filter = tf.randomNormal([...c.filter], 0, 0.5, 'float32', 22);
          const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, c.strides, c.pad);
          const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 23);
          const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
          return gradientValues(config, dy, [x, filter], attrs as unknown as tf.NamedAttrMap, ['x', 'filter']);
        });
      };
      for (const c of cases) {
        const reference = await run('cpu', original.conv, c);
        const onCpu = await run('cpu', tf.getGradient('Conv2D'), c);
        expect(maxRelDiff(onCpu.x, reference.x), `cpu ${c.filter} x`).toBe(0);
        expect(maxRelDiff(onCpu.filter, reference.filter), `cpu ${c.filter} filter`).toBe(0);
        if (native) {
          const before = tf.memory().numTensors;
          const ours = await run('tensorflow', tf.getGradient('Conv2D'), c);
          expect(tf.memory().numTensors).toBe(before);
          expect(maxRelDiff(ours.x, reference.x), `native ${c.filter} s${c.strides} ${c.pad} x`).toBeLessThan(1e-5);
          expect(maxRelDiff(ours.filter, reference.filter), `native ${c.filter} filter`).toBeLessThan(1e-5);
          // the native input gradient runs as a forward Conv2D where that is exact, else as Conv2DBackpropInput
          const { kernels } = await tf.profile(() => {
            tf.tidy(() => {
              const x = tf.randomNormal([...c.x], 0, 1, 'float32', 21) as tf.Tensor4D;
              const filter = tf.randomNormal([...c.filter], 0, 0.5, 'float32', 22) as tf.Tensor4D;
              tf.grad((input: tf.Tensor) => tf.sum(tf.conv2d(input as tf.Tensor4D, filter, c.strides, c.pad)))(
                x,
              ).dataSync();
            });
          });
          const takesConvolution = c.strides === 1 && (c.pad === 'same' || c.filter[0] === 1);
          const takesPhases = c.strides === 2 && c.x[1] % 2 === 0;
          expect(kernels.some((k) => k.name === 'Conv2DBackpropInput')).toBe(!takesConvolution && !takesPhases);
          expect(kernels.filter((k) => k.name === 'Conv2D')).toHaveLength(takesConvolution ? 2 : takesPhases ? 5 : 1);
        }
      }
    },
  );

  it(
    "batch-norm's lazy gradient equals tfjs-core's for x, " + 'mean, variance, scale and offset (4-D, 2-D, no scale)',
    async () => {
      await tf.setBackend('cpu');
      for (const [shape, withScale] of [
        [[4, 5, 5, 3], true],
        [[6, 7], true],
        [[3, 4, 4, 2], false],
      ] as const) {
        const channels = shape[shape.length - 1];
        const x = tf.randomNormal([...shape], 0, 2, 'float32', 1);
        const dy = tf.randomNormal([...shape], 0, 1, 'float32', 2);
        const saved = [
          x,
          tf.randomNormal([channels], 0, 1, 'float32', 3),
          tf.randomUniform([channels], 0.5, 2, 'float32', 4),
          ...(withScale ? [tf.randomNormal([channels], 1, 0.3, 'float32', 5)] : []),
        ];
        const names = ['x', 'mean', 'variance', 'scale', 'offset'];
        const ours = gradientValues(tf.getGradient('FusedBatchNorm'), dy, saved, { varianceEpsilon: 1e-3 }, names);
        // tfjs-core's own ∂y/∂x fails for rank ≠ 4 (its tile): there, check it by hand, dy·γ/√(σ² + ε)
        const theirs = gradientValues(
          original.batchNorm,
          dy,
          saved,
          { varianceEpsilon: 1e-3 },
          shape.length === 4 ? names : names.slice(1),
        );
        theirs.x ??= tf.tidy(() =>
          tf
            .mul(tf.mul(dy, tf.rsqrt(tf.add(saved[2], 1e-3))), saved[3] ?? 1)
            .dataSync()
            .slice(),
        );
        for (const name of names) expect(maxRelDiff(ours[name], theirs[name]), `${shape} ${name}`).toBeLessThan(1e-5);
        tf.dispose([x, dy, ...saved]);
      }
    },
  );

  it(
    "relu's gradient equals tfjs-core's on cpu (fallback) " + "and on the native backend (TensorFlow's ReluGrad)",
    async () => {
      const run = async (backend: string, config: tf.GradConfig) => {
        await tf.setBackend(backend);
        return tf.tidy(() => {
          const x = tf.randomNormal([2, 6, 6, 5], 0, 1, 'float32', 7);
          const dy = tf.randomNormal([2, 6, 6, 5], 0, 1, 'float32', 8);
          return gradientValues(config, dy, [x], {}, ['x']).x;
        });
      };
      const reference = await run('cpu', original.relu);
      expect(maxRelDiff(await run('cpu', tf.getGradient('Relu')), reference)).toBe(0);
      if (native) {
        const before = tf.memory().numTensors;
        expect(maxRelDiff(await run('tensorflow', tf.getGradient('Relu')), reference)).toBe(0);
        expect(tf.memory().numTensors).toBe(before);
      }
    },
  );

  it(
    'a conv + batch-norm + relu network: input and weight gradients ' +
      'match the cpu backend (1e-4), in training and inference mode',
    async () => {
      if (!native) return;
      const run = async (backend: string, training: boolean) => {
        await tf.setBackend(backend);
        return tf.tidy(() => {
          const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
          const filter = tf.randomNormal([3, 3, 3, 6], 0, 0.3, 'float32', 10) as tf.Tensor4D;
          const gamma = tf.randomUniform([6], 0.5, 1.5, 'float32', 11);
          const beta = tf.randomNormal([6], 0, 0.2, 'float32', 12);
          const movingMean = tf.randomNormal([6], 0, 0.1, 'float32', 13);
          const movingVariance = tf.randomUniform([6], 0.5, 2, 'float32', 14);
          const f = (input: tf.Tensor, w: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const h = tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
            const { mean, variance } = training
              ? tf.moments(h, [0, 1, 2])
              : { mean: movingMean, variance: movingVariance };
            return tf.sum(tf.mul(tf.relu(tf.batchNorm(h, mean, variance, b, g, 1e-5)), tf.range(0, 6)));
          };
          return tf
            .grads(f)([x, filter, gamma, beta])
            .map((g) => g.dataSync().slice());
        });
      };
      for (const training of [true, false]) {
        const cpu = await run('cpu', training);
        const ours = await run('tensorflow', training);
        ours.forEach((g, i) => expect(maxRelDiff(g, cpu[i]), `training ${training}, gradient ${i}`).toBeLessThan(1e-4));
      }
    },
  );

  it("native CPU backend: inference batch-norm is a per-channel multiply and add, TensorFlow's values", async () => {
    if (!native) return;
    await tf.setBackend('tensorflow');
    const tensorflowKernel = tf.getKernel(tf.FusedBatchNorm, 'tensorflow');
    expect(tensorflowKernel).toBeDefined();
    const cases = [
      { x: [4, 6, 6, 8], stats: [8], scale: true, offset: true },
      { x: [4, 6, 6, 8], stats: [8], scale: false, offset: true },
      { x: [5, 12], stats: [12], scale: true, offset: false }, // a head's batch-norm on features
      { x: [2, 3, 3, 4], stats: [2, 3, 3, 4], scale: true, offset: true }, // full-shape statistics
    ];
    const run = (c: (typeof cases)[number], seed: number) =>
      tf.tidy(() => {
        const x = tf.randomNormal(c.x, 3, 2, 'float32', seed);
        const mean = tf.randomNormal(c.stats, 3, 0.5, 'float32', seed + 1);
        const variance = tf.randomUniform(c.stats, 0.2, 4, 'float32', seed + 2);
        const scale = c.scale ? tf.randomUniform(c.stats, 0.5, 1.5, 'float32', seed + 3) : undefined;
        const offset = c.offset ? tf.randomNormal(c.stats, 0, 1, 'float32', seed + 4) : undefined;
        return tf.batchNorm(x, mean, variance, offset, scale, 1e-3).dataSync().slice();
      });
    const reference = cases.map((c, i) => run(c, 40 + 5 * i)); // tfjs-node's kernel: TensorFlow's FusedBatchNorm
    registerAffineBatchNorm();
    registerAffineBatchNorm(); // idempotent
    expect(tf.getKernel(tf.FusedBatchNorm, 'tensorflow')).toBe(nativeBatchNormKernel);
    const before = tf.memory().numTensors;
    cases.forEach((c, i) => expect(maxRelDiff(run(c, 40 + 5 * i), reference[i]), JSON.stringify(c)).toBeLessThan(1e-5));
    expect(tf.memory().numTensors).toBe(before);
    // the gradient is unchanged: the registered one reads the saved inputs, whatever the kernel
    const x = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 60);
    const [mean, variance, scale, offset] = [
      [0.1, -0.2, 0.3],
      [1, 2, 0.5],
      [2, 1, 3],
      [0, 1, -1],
    ].map((v) => tf.tensor1d(v));
    const dx = tf.grad((z: tf.Tensor) => tf.sum(tf.square(tf.batchNorm(z, mean, variance, offset, scale, 1e-3))))(x);
    const factor = tf.div(scale, tf.sqrt(tf.add(variance, 1e-3)));
    const expected = tf.mul(tf.mul(2, tf.batchNorm(x, mean, variance, offset, scale, 1e-3)), factor);
    expect(maxRelDiff(dx.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    // TensorFlow's batch-norm op is no longer run: the kernel's multiply and add are
    const { kernels } = await tf.profile(() => tf.batchNorm(x, mean, variance, offset, scale, 1e-3));
    expect(kernels.map((k) => k.name)).toContain('Multiply');
    tf.dispose([x, mean, variance, scale, offset, dx, factor, expected]);
  });

  it('inside withConstantWeights a batch-norm computes its factor and shift once: 2 kernels a call', async () => {
    if (!native) return;
    await tf.setBackend('tensorflow');
    registerAffineBatchNorm();
    const x = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 70);
    const [mean, scale, offset] = [
      [0.1, -0.2, 0.3],
      [2, 1, 3],
      [0, 1, -1],
    ].map((v) => tf.tensor1d(v));
    const variance = tf.variable(tf.tensor1d([1, 2, 0.5]));
    const norm = () => tf.batchNorm(x, mean, variance, offset, scale, 1e-3);
    const plain = norm();
    const before = tf.memory().numTensors;
    const inScope = withConstantWeights(() => {
      const first = norm();
      const cached = tf.memory().numTensors - before - 1; // besides `first`: the factor and the shift, kept
      const second = norm();
      tf.tidy(() => variance.assign(tf.mul(variance, 4))); // a weight that changes is never read stale
      const changed = norm();
      return { first, second, changed, cached };
    });
    expect(inScope.cached).toBe(2);
    expect(tf.memory().numTensors).toBe(before + 3); // the three outputs: the factors were disposed on exit
    expect(maxRelDiff(inScope.first.dataSync(), plain.dataSync())).toBe(0);
    expect(maxRelDiff(inScope.second.dataSync(), plain.dataSync())).toBe(0);
    const quartered = norm(); // outside the scope, variance still ×4: the reference for `changed`
    expect(maxRelDiff(inScope.changed.dataSync(), quartered.dataSync())).toBe(0);
    expect(maxRelDiff(inScope.changed.dataSync(), plain.dataSync())).toBeGreaterThan(0.1);
    const { kernels } = await tf.profile(() =>
      withConstantWeights(() => {
        for (let i = 0; i < 3; i++) tf.dispose(norm());
      }),
    );
    // the first call: rsqrt(σ² + ε)·γ and β − μ·f once, then x·f + shift; later calls only the last two
    expect(kernels.filter((k) => k.name === 'Rsqrt')).toHaveLength(1);
    expect(kernels.filter((k) => k.name === 'Multiply')).toHaveLength(2 + 3);
    tf.dispose([x, mean, scale, offset, variance, plain, inScope.first, inScope.second, inScope.changed, quartered]);
  });
});
