import { Rng } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import { motionBlur, motionBlurKernel } from './motion-blur-kernel';

describe('motionBlurKernel', () => {
  it('has 2·ceil(radius)+1 one-sided Gaussian taps summing to 1, the largest on the pixel itself', () => {
    const kernel = motionBlurKernel(9, 2.5, 0);
    expect(kernel.weights.length).toBe(19);
    expect(kernel.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(Math.max(...kernel.weights)).toBe(kernel.weights[0]);
    expect(kernel.weights[0] / kernel.weights[2]).toBeCloseTo(Math.exp(4 / (2 * 2.5 * 2.5)), 12);
  });

  it('points right at 0°, down at 90°, and rounds .5 ties downwards', () => {
    const right = motionBlurKernel(6, 1, 0);
    expect(Array.from(right.columnOffsets)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Array.from(right.rowOffsets)).toEqual(new Array(13).fill(0));
    const down = motionBlurKernel(6, 1, 90);
    expect(Array.from(down.rowOffsets)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const diagonal = motionBlurKernel(6, 1, 45);
    expect(Array.from(diagonal.rowOffsets)).toEqual(Array.from(diagonal.columnOffsets));
    expect(diagonal.rowOffsets[1]).toBe(1); // ceil(0.7071 − 0.5)
    expect(motionBlurKernel(6, 1, 30).rowOffsets[1]).toBe(0); // i·sin(30°) = 0.5 → ceil(0) = 0
  });
});

describe('motionBlur', () => {
  const rng = Rng.fromSeed(4);
  it('leaves a constant image unchanged and repeats edge pixels outside', () => {
    const flat = new Uint8Array(32 * 32 * 3).fill(200);
    expect(motionBlur(flat, [32, 32, 3], motionBlurKernel(8, 2, 17.3))).toEqual(flat);
  });

  it('blurs a single-channel layer like each channel of a grey RGB image', () => {
    const grey = Uint8Array.from({ length: 1024 }, () => rng.int(256));
    const rgb = new Uint8Array(3072);
    for (let i = 0; i < 1024; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = grey[i];
    const kernel = motionBlurKernel(10, 4, -100);
    const single = motionBlur(grey, [32, 32], kernel);
    const triple = motionBlur(rgb, [32, 32, 3], kernel);
    for (let i = 0; i < 1024; i++)
      expect([triple[i * 3], triple[i * 3 + 1], triple[i * 3 + 2]]).toEqual([single[i], single[i], single[i]]);
  });

  it('quantises a float [0, 1] layer with trunc8(clip(v)·255) first', () => {
    const layer = Float64Array.from({ length: 1024 }, () => rng.uniform(-0.2, 1.2));
    const bytes = Uint8Array.from(layer, (v) => Math.floor(Math.min(Math.max(v, 0), 1) * 255));
    const kernel = motionBlurKernel(14, 12, -60);
    expect(motionBlur(layer, [32, 32], kernel)).toEqual(motionBlur(bytes, [32, 32], kernel));
  });

  it('truncates the 16-bit result to 8 bits: a step edge gives floor(Q/257)', () => {
    const image = new Uint8Array(32 * 32);
    for (let y = 0; y < 32; y++) for (let x = 16; x < 32; x++) image[y * 32 + x] = 255;
    const kernel = motionBlurKernel(6, 2, 0);
    const out = motionBlur(image, [32, 32], kernel);
    // pixel 15 sees taps 1..12 on the bright side
    let q = 0;
    for (let i = 1; i < 13; i++) q += kernel.weights[i] * 65535;
    expect(out[15]).toBe(Math.floor(Math.round(q) / 257));
    expect(out[0]).toBe(0);
    expect(out[31]).toBe(255);
  });
});
