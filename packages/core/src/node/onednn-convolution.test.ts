// The native CPU backend's oneDNN convolutions (native/onednn-convolution.cc, built by `npm run native:build` when
// libdnnl-dev is installed), checked against tfjs-core's cpu backend in the same process.
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { maxRelDiff, nativeOpsRun } from '@moco-robust/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/errors';
import { convAffine } from '../backend/conv-affine';
import {
  ONEDNN_CONV2D_AFFINE_OP,
  ONEDNN_CONV2D_AFFINE_RESIDUAL_OP,
  ONEDNN_CONV2D_OP,
  registerOneDnnConvolution,
} from '../backend/node-onednn-convolution';
import {
  CONVOLUTION_VARIABLE,
  loadOneDnnConvolution,
  oneDnnForwardImplementations,
  preferEigenBesideOneDnnConvolution,
} from './onednn-convolution-addon';

let convolution = 'not loaded';

beforeAll(async () => {
  await import('@tensorflow/tfjs-layers').catch(() => undefined); // tfjs's gradients
  const native = await import('@tensorflow/tfjs-node').then(
    () => true,
    () => false,
  );
  if (native) convolution = registerOneDnnConvolution(loadOneDnnConvolution);
  if (!convolution.startsWith('oneDNN'))
    console.warn(
      `ONEDNN CONVOLUTIONS NOT CHECKED (${convolution}): run \`npm run native:build\` with libdnnl-dev installed.`,
    );
});

const built = () => convolution.startsWith('oneDNN');

afterEach(() => {
  delete process.env[CONVOLUTION_VARIABLE];
});

/** `f` on the cpu backend and on the native one, as flat arrays. */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; native: Float32Array[] }> {
  const values = () =>
    tf.tidy(() => {
      const result = f();
      return (Array.isArray(result) ? result : [result]).map((t) => t.dataSync() as Float32Array);
    });
  await tf.setBackend('cpu');
  try {
    const cpu = values();
    return { cpu, native: await tf.setBackend('tensorflow').then(values) };
  } finally {
    await tf.setBackend('tensorflow');
  }
}

const u = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

describe('oneDNN convolutions on the native CPU backend', () => {
  it('report the oneDNN version they run on', () => {
    if (!built()) return;
    expect(convolution).toMatch(/^oneDNN \d+\.\d+\.\d+$/);
  });

  it.each([
    ['3×3 stride 1 same', [2, 9, 9, 4], [3, 3, 4, 5], 1, 'same', 1],
    ['3×3 stride 2 same, odd input', [2, 9, 7, 4], [3, 3, 4, 6], 2, 'same', 1],
    ['3×3 stride 2 same, even input', [3, 8, 8, 3], [3, 3, 3, 4], 2, 'same', 1],
    ['1×1 stride 2 valid (a shortcut)', [2, 8, 8, 6], [1, 1, 6, 5], 2, 'valid', 1],
    ['5×3 stride [1, 3] valid', [1, 11, 12, 2], [5, 3, 2, 3], [1, 3], 'valid', 1],
    ['3×3 dilation 2 same', [2, 10, 10, 3], [3, 3, 3, 2], 1, 'same', 2],
    [
      '3×3 stride 1 same, 64 channels at 1,024 output positions (Winograd where AVX-512)',
      [4, 16, 16, 64],
      [3, 3, 64, 64],
      1,
      'same',
      1,
    ],
    [
      '2×2 explicit padding',
      [2, 7, 6, 3],
      [2, 2, 3, 4],
      1,
      [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
      1,
    ],
  ] as const)('forward, %s: equal to the cpu backend', async (_, xShape, fShape, strides, pad, dilations) => {
    if (!built()) return;
    const f = () =>
      tf.conv2d(
        u([...xShape], 1) as tf.Tensor4D,
        u([...fShape], 2) as tf.Tensor4D,
        strides as number | [number, number],
        pad as 'same',
        'NHWC',
        dilations,
      );
    const { cpu, native } = await onBoth(f);
    expect(native[0]!.length).toBe(cpu[0]!.length);
    expect(maxRelDiff(native[0]!, cpu[0]!)).toBeLessThan(1e-5);
    expect(nativeOpsRun(() => tf.dispose(f()))).toContain(ONEDNN_CONV2D_OP);
  });

  // one geometry per implementation oneDNN picks at these sizes: its im2col GEMM (stride 1, ≤ 16 output positions,
  // k > 1), BRGEMM 1×1 and BRGEMM; the scale is folded into the filter, the shift is the convolution's bias
  it.each([
    ['3×3 stride 1 at 4×4 (GEMM)', [3, 4, 4, 16], [3, 3, 16, 24], 1, 'same'],
    ['1×1 stride 1 at 4×4', [3, 4, 4, 16], [1, 1, 16, 24], 1, 'valid'],
    ['3×3 stride 2 at 9×9', [2, 9, 9, 8], [3, 3, 8, 12], 2, 'same'],
    ['3×3 stride 1 at 16×16 ×4 (Winograd where AVX-512)', [4, 16, 16, 64], [3, 3, 64, 64], 1, 'same'],
  ] as const)(
    'the affine op, %s: conv·scale + shift (+ residual) (then ReLU) as on the cpu backend',
    async (_, xs, fs, strides, pad) => {
      if (!built()) return;
      const channels = fs[3];
      const inputs = () => {
        const [x, filter] = [u([...xs], 11) as tf.Tensor4D, u([...fs], 12) as tf.Tensor4D];
        const residual = u(tf.conv2d(x, filter, strides, pad).shape, 15) as tf.Tensor4D;
        return { x, filter, scale: tf.add(u([channels], 13), 1.2) as tf.Tensor1D, shift: u([channels], 14), residual };
      };
      const variants = [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const;
      const reference = ([relu, added]: readonly [boolean, boolean]) => {
        const { x, filter, scale, shift, residual } = inputs();
        const y = tf.add(tf.mul(tf.conv2d(x, filter, strides, pad), scale), shift);
        const sum = added ? tf.add(y, residual) : y;
        return relu ? tf.relu(sum) : sum;
      };
      const { cpu } = await onBoth(() => variants.map(reference));
      const fused = ([relu, added]: readonly [boolean, boolean]) => {
        const { x, filter, scale, shift, residual } = inputs();
        const attrs = { strides, pad, dilations: 1, relu } as const;
        return convAffine(x, filter, scale as tf.Tensor1D, shift as tf.Tensor1D, attrs, added ? residual : undefined);
      };
      const native = tf.tidy(() => variants.map((v) => fused(v).dataSync() as Float32Array));
      expect(native[0]!.some((v) => v < 0)).toBe(true); // the ReLU has something to do
      native.forEach((values, i) => expect(maxRelDiff(values, cpu[i]!), `variant ${i}`).toBeLessThan(1e-5));
      expect(nativeOpsRun(() => tf.dispose(tf.tidy(() => fused([true, false]))))).toContain(ONEDNN_CONV2D_AFFINE_OP);
      expect(nativeOpsRun(() => tf.dispose(tf.tidy(() => fused([true, true]))))).toContain(
        ONEDNN_CONV2D_AFFINE_RESIDUAL_OP,
      );
    },
  );

  it("runs 3×3 stride-1 convolutions with ≥ 64 channels over enough positions as Winograd's on AVX-512", () => {
    if (!built()) return;
    const run = (xShape: number[], fShape: number[]) =>
      tf.tidy(() => tf.conv2d(u(xShape, 1) as tf.Tensor4D, u(fShape, 2) as tf.Tensor4D, 1, 'same').dataSync());
    run([4, 16, 16, 64], [3, 3, 64, 64]); // 1,024 positions × 64 channels
    run([2, 16, 16, 64], [3, 3, 64, 64]); // 512 × 64: direct
    run([4, 16, 16, 64], [3, 3, 64, 32]); // 32 output channels: direct
    run([1, 4, 4, 512], [3, 3, 512, 512]); // 16 positions: direct
    const implementation = (x: string, f: string) =>
      oneDnnForwardImplementations()
        .find((line) => line.startsWith(`input ${x}, filter ${f}, strides [1, 1]: `))
        ?.split(': ')[1];
    const flags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
    const avx512 = /\bavx512bw\b/.test(flags) && /\bavx512vl\b/.test(flags);
    const wide = implementation('[4, 16, 16, 64]', '[3, 3, 64, 64]');
    expect(wide).toBeDefined();
    if (avx512) expect(wide).toMatch(/wino/);
    else expect(wide).not.toMatch(/wino/);
    expect(implementation('[2, 16, 16, 64]', '[3, 3, 64, 64]')).not.toMatch(/wino/);
    expect(implementation('[4, 16, 16, 64]', '[3, 3, 64, 32]')).not.toMatch(/wino/);
    expect(implementation('[1, 4, 4, 512]', '[3, 3, 512, 512]')).not.toMatch(/wino/);
  });

  it('the affine op refuses a residual of another shape, naming it', () => {
    if (!built()) return;
    const x = u([1, 4, 4, 3], 16) as tf.Tensor4D;
    const filter = u([3, 3, 3, 2], 17) as tf.Tensor4D;
    const wrong = u([1, 4, 4, 3], 18) as tf.Tensor4D;
    const attrs = { strides: 1, pad: 'same', dilations: 1, relu: true } as const;
    expect(() => convAffine(x, filter, tf.ones([2]), tf.zeros([2]), attrs, wrong)).toThrow(
      /residual must have the output's shape \[1, 4, 4, 2\]/,
    );
    tf.dispose([x, filter, wrong]);
  });

  it.each([
    ['3×3 stride 1 same', [2, 6, 6, 5], 1, 'same', true],
    ['3×3 stride 2 same, even input', [2, 8, 8, 5], 2, 'same', true],
    ['3×3 stride 2 valid (TensorFlow’s op)', [2, 9, 9, 5], 2, 'valid', false],
  ] as const)(
    'conv2dTranspose, %s: equal to the cpu backend, as forward convolutions where exact',
    async (_, xs, s, pad, asForward) => {
      if (!built()) return;
      const f = () => {
        const filter = u([3, 3, 5, 4], 21) as tf.Tensor4D;
        const dy = u(tf.conv2d(tf.zeros([...xs]) as tf.Tensor4D, filter, s, pad).shape, 22) as tf.Tensor4D;
        return tf.conv2dTranspose(dy, filter, [...xs] as [number, number, number, number], s, pad);
      };
      const { cpu, native } = await onBoth(f);
      expect(maxRelDiff(native[0]!, cpu[0]!)).toBeLessThan(1e-5);
      const before = tf.memory().numTensors;
      const ops = nativeOpsRun(() => tf.dispose(tf.tidy(f)));
      expect(tf.memory().numTensors).toBe(before);
      expect(ops.includes('Conv2DBackpropInput')).toBe(!asForward);
      expect(ops.includes(ONEDNN_CONV2D_OP)).toBe(true); // the forward pass that shaped dy, at least
    },
  );

  it('an empty batch: an empty output, and a zero filter gradient', () => {
    if (!built()) return;
    const empty = tf.zeros([0, 4, 4, 3]) as tf.Tensor4D;
    const filter = u([3, 3, 3, 2], 19) as tf.Tensor4D;
    const y = tf.conv2d(empty, filter, 1, 'same');
    expect(y.shape).toEqual([0, 4, 4, 2]);
    const gradient = tf.grad((f) => tf.sum(tf.conv2d(empty, f as tf.Tensor4D, 1, 'same')))(filter);
    expect(gradient.shape).toEqual([3, 3, 3, 2]);
    expect([...gradient.dataSync()].every((v) => v === 0)).toBe(true);
    tf.dispose([empty, filter, y, gradient]);
  });

  it('a fused convolution (bias, ReLU) and the filter gradient, strides 1 and 2, equal the cpu backend', async () => {
    if (!built()) return;
    const x = () => u([2, 8, 8, 5], 3) as tf.Tensor4D;
    const w = () => u([3, 3, 5, 7], 4) as tf.Tensor4D;
    const fused = () =>
      tf.fused.conv2d({ x: x(), filter: w(), strides: 2, pad: 'same', bias: u([7], 5), activation: 'relu' });
    const filterGradients = () =>
      [1, 2].map((stride) => {
        const r = u([2, 8 / stride, 8 / stride, 7], 6);
        return tf.grad((filter) => tf.sum(tf.mul(tf.conv2d(x(), filter as tf.Tensor4D, stride, 'same'), r)))(w());
      });
    // under a gradient tfjs runs the fused op (a tfjs-layers Conv2D: no bias, linear) through its custom gradient,
    // which saves the kernel's output
    const fusedGradients = () =>
      tf.grads((a, b) =>
        tf.sum(
          tf.fused.conv2d({
            x: a as tf.Tensor4D,
            filter: b as tf.Tensor4D,
            strides: 1,
            pad: 'same',
            activation: 'relu',
          }),
        ),
      )([x(), w()]);
    const { cpu, native } = await onBoth(() => [fused(), ...filterGradients(), ...fusedGradients()]);
    native.forEach((values, i) => expect(maxRelDiff(values, cpu[i]!)).toBeLessThan(1e-5));
    expect(nativeOpsRun(() => tf.dispose(fused()))).toContain(ONEDNN_CONV2D_OP);
    expect(nativeOpsRun(() => tf.dispose(filterGradients()))).toContain('MocoConv2DBackpropFilter');
  });

  it("Winograd's input and filter gradients (64 channels at 1,024 positions) equal the cpu backend", async () => {
    if (!built()) return;
    const r = () => u([4, 16, 16, 64], 9);
    const gradients = () =>
      tf.grads((x, filter) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), r())))([
        u([4, 16, 16, 64], 7),
        u([3, 3, 64, 64], 8),
      ]);
    const { cpu, native } = await onBoth(gradients);
    // the filter gradient sums 1,024 positions' products in another order: rounding grows with the sum
    expect(maxRelDiff(native[0]!, cpu[0]!), 'input gradient').toBeLessThan(1e-5);
    expect(maxRelDiff(native[1]!, cpu[1]!), 'filter gradient').toBeLessThan(2e-5);
    const ops = nativeOpsRun(() => tf.dispose(gradients()));
    expect(ops).toContain('MocoConv2DBackpropFilter');
  });

  it('average pooling over separate windows and its gradient equal cpu; the others stay TensorFlow', async () => {
    if (!built()) return;
    // [input shape, window, strides, padding]: 2×2 and 3×3 windows, channels not a multiple of 4, an odd size
    // (its last row and column in no window: zero gradient), 'same' that pads nothing, a batch large enough to thread
    const cases: [number[], number, number, 'valid' | 'same'][] = [
      [[3, 8, 8, 8], 2, 2, 'valid'],
      [[2, 9, 7, 5], 2, 2, 'valid'],
      [[2, 9, 9, 3], 3, 3, 'same'],
      [[40, 32, 32, 8], 2, 2, 'valid'],
      [[10, 32, 32, 8], 1, 2, 'valid'], // a 1×1 stride-2 subsampling (a shortcut's, before its 1×1 convolution)
      [[2, 9, 11, 4], 2, 3, 'valid'], // gaps between the windows
      [[2, 9, 9, 4], 3, 2, 'valid'], // overlapping: TensorFlow's
      [[2, 9, 9, 4], 2, 2, 'same'], // padded: TensorFlow's
    ];
    for (const [shape, size, stride, pad] of cases) {
      const pooled = () => {
        const x = u(shape, 21) as tf.Tensor4D;
        const r = u(tf.avgPool(x, size, stride, pad).shape, 22);
        const loss = (input: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(input as tf.Tensor4D, size, stride, pad), r));
        return [tf.avgPool(x, size, stride, pad), tf.grad(loss)(x)];
      };
      const name = `${shape} window ${size} stride ${stride} ${pad}`;
      const ours = size <= stride && !(pad === 'same' && shape[1]! % size !== 0);
      if (ours) {
        // (TensorFlow's own padded pooling gradient leaves out the padding, tfjs's cpu one counts it: not compared)
        const { cpu, native } = await onBoth(pooled);
        expect(maxRelDiff(native[0]!, cpu[0]!), `${name}: pooled`).toBeLessThan(1e-6);
        expect(maxRelDiff(native[1]!, cpu[1]!), `${name}: gradient`).toBeLessThan(1e-6);
      }
      const ops = nativeOpsRun(() => tf.dispose(pooled()));
      expect(ops.includes('MocoAvgPool') && ops.includes('MocoAvgPoolGrad'), name).toBe(ours);
      expect(ops.includes('AvgPool') || ops.includes('AvgPoolGrad'), name).toBe(!ours);
    }
  });

  it('leave no tensor behind', () => {
    if (!built()) return;
    const x = u([2, 8, 8, 4], 7) as tf.Tensor4D;
    const w = u([3, 3, 4, 4], 8) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() =>
        tf.grads((a, b) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, w]),
      );
    tf.dispose(step());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i += 1) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });

  it("report a bad call as TensorFlow's error, naming what is wrong, and keep working", () => {
    if (!built()) return;
    const backend = tf.backend() as unknown as {
      binding: { TF_ATTR_INT: number };
      executeSingleOutput(name: string, attrs: unknown[], inputs: tf.TensorInfo[]): tf.TensorInfo;
    };
    const int = backend.binding.TF_ATTR_INT;
    const attrs = [
      { name: 'strides', type: int, value: [1, 1] },
      { name: 'pads', type: int, value: [1, 1, 1, 1] },
      { name: 'dilations', type: int, value: [1, 1] },
    ];
    const x = u([1, 5, 5, 3], 9);
    const wrongChannels = u([3, 3, 4, 2], 10);
    expect(() => backend.executeSingleOutput(ONEDNN_CONV2D_OP, attrs, [x, wrongChannels])).toThrow(
      /filter's input channels \(4\) must equal the input's \(3\)/,
    );
    expect(() =>
      backend.executeSingleOutput(ONEDNN_CONV2D_OP, [{ ...attrs[0]!, value: [1, 1, 1] }, attrs[1]!, attrs[2]!], [x, x]),
    ).toThrow(/attr strides must have 2 values, got 3/);
    const y = tf.conv2d(x as tf.Tensor4D, u([3, 3, 3, 2], 11) as tf.Tensor4D, 1, 'same');
    expect(y.shape).toEqual([1, 5, 5, 2]);
    tf.dispose([x, wrongChannels, y]);
  });
});

describe(`${CONVOLUTION_VARIABLE}`, () => {
  it("tensorflow keeps TensorFlow's convolutions; another value is an error naming the variable", () => {
    process.env[CONVOLUTION_VARIABLE] = 'tensorflow';
    expect(loadOneDnnConvolution()).toEqual({ missing: `${CONVOLUTION_VARIABLE}=tensorflow` });
    process.env[CONVOLUTION_VARIABLE] = 'mkl';
    expect(() => loadOneDnnConvolution()).toThrow(InvalidArgumentError);
    expect(() => loadOneDnnConvolution()).toThrow(
      new RegExp(`${CONVOLUTION_VARIABLE}.*onednn or tensorflow.*mkl`, 's'),
    );
  });

  it("turns TensorFlow's own oneDNN rewrites off where ours load, unless the variable is set", () => {
    const before = process.env.TF_ENABLE_ONEDNN_OPTS;
    try {
      delete process.env.TF_ENABLE_ONEDNN_OPTS;
      process.env[CONVOLUTION_VARIABLE] = 'tensorflow';
      preferEigenBesideOneDnnConvolution();
      expect(process.env.TF_ENABLE_ONEDNN_OPTS).toBeUndefined();
      delete process.env[CONVOLUTION_VARIABLE];
      preferEigenBesideOneDnnConvolution();
      expect(process.env.TF_ENABLE_ONEDNN_OPTS).toBe(built() ? '0' : undefined);
      process.env.TF_ENABLE_ONEDNN_OPTS = '1';
      preferEigenBesideOneDnnConvolution();
      expect(process.env.TF_ENABLE_ONEDNN_OPTS).toBe('1');
    } finally {
      if (before === undefined) delete process.env.TF_ENABLE_ONEDNN_OPTS;
      else process.env.TF_ENABLE_ONEDNN_OPTS = before;
    }
  });
});
