import { describe, expect, it } from 'vitest';
import {
  assertCifarImage,
  scaledToUint8,
  severityValue,
  toUnitFloat32,
  toUnitFloat64,
  trunc8,
  unitToUint8,
} from './image-buffers';

describe('image buffers', () => {
  it('trunc8 clips then floors (never rounds); NaN becomes 0', () => {
    expect([-3, 0, 0.99, 1.5, 254.999, 255, 300, Number.NaN].map(trunc8)).toEqual([0, 0, 0, 1, 254, 255, 255, 0]);
    expect(scaledToUint8([12.7, -1, 256])).toEqual(Uint8Array.from([12, 0, 255]));
  });

  it('every uint8 value survives u = x/255 and trunc8(u·255) unchanged, in float64 and float32', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(unitToUint8(toUnitFloat64(all))).toEqual(all);
    expect(unitToUint8(toUnitFloat32(all))).toEqual(all);
  });

  it('validates severities and image sizes', () => {
    expect(severityValue([1, 2, 3, 4, 5], 3)).toBe(3);
    expect(() => severityValue([1, 2, 3, 4, 5], 6)).toThrow(/severity/);
    expect(() => assertCifarImage(new Uint8Array(10))).toThrow(/3072/);
  });
});
