import { Rng } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import type { Corruption } from '../corruption';
import { referenceDraws } from '../test-helpers/reference';
import {
  describeWithReference,
  expectReferenceMatch,
  expectWithinSeedSpread,
  SEVERITIES,
} from '../test-helpers/reference-checks';
import { glassBlur } from './glass-blur';
import { motionBlur } from './motion-blur';

describeWithReference('random blurs fed the recorded draws match the original generator', () => {
  for (const severity of SEVERITIES) {
    it(`motion_blur severity ${severity}: |ts − ref| ≤ 1 everywhere`, () => {
      const draws = referenceDraws('motion_blur', severity);
      expectReferenceMatch(motionBlur, severity, {
        drawsFor: (i) => ({ angleDeg: Math.fround(draws[i].angle_deg as number) }),
      });
    });
    it(`glass_blur severity ${severity}: |ts − ref| ≤ 1 everywhere`, () => {
      const draws = referenceDraws('glass_blur', severity);
      expectReferenceMatch(glassBlur, severity, { drawsFor: (i) => ({ shifts: draws[i].shifts as string }) });
    });
  }
});

describeWithReference(
  'random blurs with their own draws match the generator in distribution (README tolerance 3)',
  () => {
    for (const corruption of [motionBlur, glassBlur] as Corruption[]) {
      for (const severity of SEVERITIES) {
        const within = 'mad, mean, std, psnr within 6·sd + floor of the seed spread';
        it(`${corruption.name} severity ${severity}: ${within}`, () =>
          expectWithinSeedSpread(corruption, severity, [99]));
      }
    }
  },
);

describe('random blurs: draws and validation', () => {
  const image = Uint8Array.from({ length: 3072 }, (_, i) => (i * 53) % 256);
  it('draw their randomness from the rng when no draws are given (reproducible per seed)', () => {
    for (const corruption of [motionBlur, glassBlur] as const) {
      const a = corruption.apply(image, 4, { rng: Rng.fromSeed(1) });
      expect(corruption.apply(image, 4, { rng: Rng.fromSeed(1) })).toEqual(a);
      expect(corruption.apply(image, 4, { rng: Rng.fromSeed(2) })).not.toEqual(a);
    }
  });
  it('glass_blur rejects shifts of the wrong length or with digits outside 0–3', () => {
    const rng = Rng.fromSeed(0);
    expect(() => glassBlur.apply(image, 4, { rng, draws: { shifts: '0'.repeat(900) } })).toThrow(/1800 digits/);
    expect(() => glassBlur.apply(image, 1, { rng, draws: { shifts: '4'.repeat(900) } })).toThrow(/draws.shifts/);
  });
  it('motion_blur with angle 0 blurs towards +columns only', () => {
    const column = new Uint8Array(3072);
    for (let y = 0; y < 32; y++) column[(y * 32 + 16) * 3] = 255;
    const out = motionBlur.apply(column, 1, { rng: Rng.fromSeed(0), draws: { angleDeg: 0 } });
    expect(out[(5 * 32 + 17) * 3]).toBe(0); // right of the line: never sampled from the left
    expect(out[(5 * 32 + 15) * 3]).toBeGreaterThan(0); // left of the line sees it through its +column taps
    expect(out[(5 * 32 + 16) * 3 + 1]).toBe(0); // channels stay apart
  });
});
