// On the native backend with its addon built, FAB's projection step is one kernel (core's linfBoxProjection, an exact
// per-row solve); elsewhere it is the batched bisection out of tfjs ops. Checked against that on the cpu backend, on
// AutoAttack's shapes and on the corner cases of the solve, and FAB-T as a whole against the cpu backend.
import * as tf from '@tensorflow/tfjs-core';
import { Rng, selectBackend } from '@moco-robust/core';
import { linfBoxProjectionAvailable } from '@moco-robust/core/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fabTargeted, linfHyperplaneBoxProjection } from './fab';
import { randomBatch, tinyConvNet } from './test-helpers/tiny-conv-net';

let native = false;

beforeAll(async () => {
  const selection = await selectBackend({ backend: 'node' }).catch(() => undefined);
  native = selection !== undefined && linfBoxProjectionAvailable();
  if (!native)
    console.warn(
      `NATIVE FAB PROJECTION NOT CHECKED (${selection?.convolution ?? 'no native backend'}): ` +
        'run `npm run native:build` with libdnnl-dev installed.',
    );
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** `f` on the cpu backend (the batched projection) and on the native one (the kernel), as nested arrays. */
async function onBoth<T>(f: () => tf.Tensor): Promise<{ cpu: T; native: T }> {
  const values = (): T => {
    const result = tf.tidy(f);
    const array = result.arraySync() as T;
    result.dispose();
    return array;
  };
  await tf.setBackend('cpu');
  try {
    const cpu = values();
    await tf.setBackend('tensorflow');
    expect(linfBoxProjectionAvailable()).toBe(true);
    return { cpu, native: values() };
  } finally {
    await tf.setBackend('tensorflow');
  }
}

/** Rows of [0, 1]ᴰ points, weights (some zero), offsets: reachable, on the point already, and out of reach. */
function cases(rows: number, size: number, seed: number) {
  const random = Rng.fromSeed(seed);
  const t: number[][] = [];
  const w: number[][] = [];
  const b: number[] = [];
  for (let r = 0; r < rows; r++) {
    // some coordinates on the box edges and some rooms tied, as clipped images have
    const point = Array.from({ length: size }, () => {
      const u = random.float();
      return u < 0.1 ? 0 : u > 0.9 ? 1 : u < 0.2 ? 0.5 : random.float();
    });
    const weights = Array.from({ length: size }, () => (random.float() < 0.1 ? 0 : random.float() * 2 - 1));
    const wt = point.reduce((sum, v, i) => sum + v * weights[i], 0);
    const kind = r % 4;
    const target = Array.from({ length: size }, () => random.float());
    const onBox = target.reduce((sum, v, i) => sum + v * weights[i], 0);
    const reach = weights.reduce((sum, v) => sum + Math.abs(v), 0);
    b.push(kind === 0 ? onBox : kind === 1 ? wt : kind === 2 ? wt + 2 * reach : wt + (onBox - wt) * 0.01);
    t.push(point);
    w.push(weights);
  }
  return { t, w, b };
}

describe('linfHyperplaneBoxProjection on the native kernel', () => {
  it('gives the batched projection’s steps on AutoAttack’s FAB shapes and the corner cases', async () => {
    if (!native) return;
    for (const [rows, size, seed] of [
      [16, 3072, 1],
      [8, 12, 2],
      [12, 1, 3],
    ] as const) {
      const { t, w, b } = cases(rows, size, seed);
      const { cpu, native: kernel } = await onBoth<number[][]>(() =>
        linfHyperplaneBoxProjection(tf.tensor2d(t), tf.tensor2d(w), tf.tensor1d(b)),
      );
      // per row, relative to the row's largest step (λ, or the largest room where out of reach), over the
      // float32 rounding of w·t − b (summed in another order there: ≈ 1e-8 in λ at 3,072 coordinates)
      kernel.forEach((row, r) => {
        const scale = Math.max(...cpu[r].map(Math.abs));
        const largest = Math.max(...row.map((v, i) => Math.abs(v - cpu[r][i])));
        expect(largest, `row ${r} of [${rows}, ${size}]`).toBeLessThan(1e-5 * scale + 1e-7);
      });
      // every reachable row lands on its hyperplane
      kernel.forEach((row, r) => {
        if (r % 4 === 2) return;
        const moved = t[r].map((v, i) => v + row[i]);
        expect(Math.abs(moved.reduce((sum, v, i) => sum + v * w[r][i], 0) - b[r])).toBeLessThan(1e-3);
      });
    }
  });

  it('an all-zero weight row does not move, and a bad shape is an error naming the inputs', async () => {
    if (!native) return;
    await tf.setBackend('tensorflow');
    const step = tf.tidy(() =>
      linfHyperplaneBoxProjection(tf.tensor2d([[0.2, 0.4]]), tf.tensor2d([[0, 0]]), tf.tensor1d([1])).arraySync(),
    );
    expect(step).toEqual([[0, 0]]);
    expect(() =>
      tf.tidy(() => linfHyperplaneBoxProjection(tf.zeros([2, 3]), tf.zeros([2, 4]), tf.zeros([2]) as tf.Tensor1D)),
    ).toThrow(/points and w must be \[n, D\] and b \[n\]; got points \[2, 3\], w \[2, 4\], b \[2\]/);
  });

  it('FAB-T finds the same adversarial examples as on the cpu backend', async () => {
    if (!native) return;
    const net = tinyConvNet(5, 7);
    const { x } = randomBatch(6, 5);
    const y = tf.tidy(() => tf.cast(tf.argMax(net.predict(x) as tf.Tensor, 1), 'int32') as tf.Tensor1D);
    const { cpu, native: kernel } = await onBoth<number[][][][]>(() => {
      const { adversarial } = fabTargeted(net, x, y, { epsilon: 0.1, steps: 20, targets: 3 });
      return adversarial;
    });
    let largest = 0;
    kernel.flat(3).forEach((v, i) => (largest = Math.max(largest, Math.abs(v - cpu.flat(3)[i]))));
    expect(largest).toBeLessThan(1e-4);
    tf.dispose([x, y]);
  });
});
