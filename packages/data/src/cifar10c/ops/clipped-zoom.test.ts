import { Rng } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import { zoomBlurFactors } from '../corruptions/zoom-blur';
import { clippedZoom, clippedZoomPlan } from './clipped-zoom';

describe('clippedZoomPlan', () => {
  it('reproduces the crop / top / up-scaled size table of docs/cifar10c.md §B2 for zoom_blur', () => {
    // [ch, top, n] for z = 1.00 … 1.25
    const table = [
      [32, 0, 32],
      [32, 0, 32],
      [32, 0, 33],
      [32, 0, 33],
      [31, 0, 32],
      [31, 0, 33],
      [31, 0, 33],
      [30, 1, 32],
      [30, 1, 32],
      [30, 1, 33],
      [30, 1, 33],
      [29, 1, 32],
      [29, 1, 32],
      [29, 1, 33],
      [29, 1, 33],
      [28, 2, 32],
      [28, 2, 32],
      [28, 2, 33],
      [28, 2, 33],
      [27, 2, 32],
      [27, 2, 32],
      [27, 2, 33],
      [27, 2, 33],
      [27, 2, 33],
      [26, 3, 32],
      [26, 3, 33],
    ];
    const factors = zoomBlurFactors(1.26);
    expect(factors.length).toBe(26);
    const ours = Array.from(factors, (z) => {
      const plan = clippedZoomPlan(32, z);
      return [plan.crop, plan.top, plan.zoomedSide];
    });
    expect(ours).toEqual(table);
  });

  it("matches snow's zooms: 1.75 → (19, 6, 33, trim 0), 2.25 → (15, 8, 34, trim 1), 1.25 → (26, 3, 32)", () => {
    const pick = (z: number) => {
      const p = clippedZoomPlan(32, z);
      return [p.crop, p.top, p.zoomedSide, p.trim];
    };
    expect(pick(1.75)).toEqual([19, 6, 33, 0]);
    expect(pick(2.25)).toEqual([15, 8, 34, 1]);
    expect(pick(1.25)).toEqual([26, 3, 32, 0]);
  });
});

describe('clippedZoom', () => {
  const rng = Rng.fromSeed(9);
  const image = Float64Array.from({ length: 32 * 32 * 3 }, () => rng.float());

  it('is exactly the identity for factors 1.00 and 1.01', () => {
    expect(clippedZoom(image, [32, 32, 3], 1)).toEqual(image);
    expect(clippedZoom(image, [32, 32, 3], 1.01)).toEqual(image);
  });

  it('interpolates linearly with aligned corners: a linear ramp stays linear, and corner values are kept', () => {
    const ramp = Float64Array.from({ length: 32 * 32 }, (_, i) => Math.floor(i / 32) * 2 + (i % 32));
    const z = 1.25; // crop 26 from row 3, n = 32: output o samples 3 + o·25/31
    const out = clippedZoom(ramp, [32, 32], z);
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        const expected = (3 + (y * 25) / 31) * 2 + 3 + (x * 25) / 31;
        expect(out[y * 32 + x]).toBeCloseTo(expected, 10);
      }
    expect(out[0]).toBe(ramp[3 * 32 + 3]);
    expect(out[32 * 32 - 1]).toBe(ramp[28 * 32 + 28]);
  });

  it('handles 2-D float64 fields (snow) and 3-channel float32 images without mixing channels', () => {
    const field = Float64Array.from({ length: 1024 }, () => rng.normal(0.1, 0.2));
    const zoomed = clippedZoom(field, [32, 32], 2.25);
    expect(zoomed).toBeInstanceOf(Float64Array);
    const f32 = Float32Array.from(image);
    const out = clippedZoom(f32, [32, 32, 3], 1.17);
    const red = Float32Array.from({ length: 1024 }, (_, i) => f32[i * 3]);
    const redOut = clippedZoom(red, [32, 32], 1.17);
    for (let i = 0; i < 1024; i++) expect(out[i * 3]).toBe(redOut[i]);
  });

  it('rejects zoom < 1, non-square shapes and an output aliasing the input', () => {
    expect(() => clippedZoom(image, [32, 32, 3], 0.9)).toThrow(/zoom/);
    expect(() => clippedZoom(image, [16, 64, 3], 1.1)).toThrow(/shape/);
    expect(() => clippedZoom(image, [32, 32, 3], 1.1, image)).toThrow(/output/);
  });
});
