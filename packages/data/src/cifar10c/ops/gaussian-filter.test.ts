import { Rng } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import { gaussianFilter, gaussianKernel1d } from './gaussian-filter';

/** Direct 2-D Gaussian (separable weights) with the boundary rules written out, for comparison. */
function naiveFilter(
  input: Float64Array,
  h: number,
  w: number,
  c: number,
  sigma: number,
  truncate: number,
  mode: 'nearest' | 'reflect',
) {
  const k = gaussianKernel1d(sigma, truncate);
  const r = (k.length - 1) / 2;
  const index = (i: number, n: number) => {
    if (mode === 'nearest') return Math.min(Math.max(i, 0), n - 1);
    for (;;) {
      if (i < 0) i = -i - 1;
      else if (i >= n) i = 2 * n - 1 - i;
      else return i;
    }
  };
  const out = new Float64Array(input.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let dy = -r; dy <= r; dy++)
          for (let dx = -r; dx <= r; dx++) {
            sum += k[dy + r] * k[dx + r] * input[(index(y + dy, h) * w + index(x + dx, w)) * c + ch];
          }
        out[(y * w + x) * c + ch] = sum;
      }
  return out;
}

describe('gaussianKernel1d', () => {
  it('has the radii of docs/cifar10c.md §B1 (truncate 4 and 3) and sums to 1', () => {
    const radius = (sigma: number, truncate = 4) => (gaussianKernel1d(sigma, truncate).length - 1) / 2;
    expect([0.4, 0.6, 0.7, 0.8, 1, 0.5, 0.25, 0.05].map((s) => radius(s))).toEqual([2, 2, 3, 3, 4, 2, 1, 0]);
    expect([6.4, 1.92, 1.28, 0.96].map((s) => radius(s, 3))).toEqual([19, 6, 4, 3]);
    const k = gaussianKernel1d(1.92, 3);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(k[0]).toBe(k[k.length - 1]);
  });
});

describe('gaussianFilter', () => {
  const rng = Rng.fromSeed(3);
  const image = Float64Array.from({ length: 32 * 32 * 3 }, () => rng.float());
  const field = Float64Array.from({ length: 32 * 32 }, () => rng.uniform(-1, 1));

  it('nearest mode on an HWC image equals the direct 2-D sum, channels kept apart', () => {
    const ours = gaussianFilter(image, [32, 32, 3], { sigma: 1 });
    const expected = naiveFilter(image, 32, 32, 3, 1, 4, 'nearest');
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - expected[i])).toBeLessThan(1e-13);
  });

  it(
    'reflect mode (half-sample symmetric) with truncate 3 ' +
      'equals the direct sum, even when the radius nears the side',
    () => {
      for (const sigma of [0.96, 6.4]) {
        const ours = gaussianFilter(field, [32, 32], { sigma, truncate: 3, mode: 'reflect' });
        const expected = naiveFilter(field, 32, 32, 1, sigma, 3, 'reflect');
        for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - expected[i])).toBeLessThan(1e-13);
      }
      const small = Float64Array.from({ length: 5 * 4 }, () => rng.float()); // radius 19 > side: repeated reflection
      const ours = gaussianFilter(small, [5, 4], { sigma: 6.4, truncate: 3, mode: 'reflect' });
      const expected = naiveFilter(small, 5, 4, 1, 6.4, 3, 'reflect');
      for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - expected[i])).toBeLessThan(1e-13);
    },
  );

  it('keeps float32 precision for float32 input and can work in place', () => {
    const input = Float32Array.from(image);
    const out = gaussianFilter(input, [32, 32, 3], { sigma: 0.7 });
    expect(out).toBeInstanceOf(Float32Array);
    const copy = Float32Array.from(input);
    gaussianFilter(copy, [32, 32, 3], { sigma: 0.7 }, copy);
    expect(copy).toEqual(out);
  });

  it('is the identity for sigma 0 and for a radius-0 kernel (sigma 0.05)', () => {
    expect(gaussianFilter(image, [32, 32, 3], { sigma: 0 })).toEqual(image);
    expect(gaussianFilter(image, [32, 32, 3], { sigma: 0.05 })).toEqual(image);
  });

  it('rejects a shape that does not match the buffer and a negative sigma', () => {
    expect(() => gaussianFilter(image, [32, 32], { sigma: 1 })).toThrow(/input/);
    expect(() => gaussianFilter(field, [32, 32], { sigma: -1 })).toThrow(/sigma/);
  });
});
