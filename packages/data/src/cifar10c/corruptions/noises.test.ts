import { Rng } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import type { Corruption } from '../corruption';
import { describeWithReference, expectWithinSeedSpread, SEVERITIES } from '../test-helpers/reference-checks';
import { gaussianNoise } from './gaussian-noise';
import { impulseNoise } from './impulse-noise';
import { shotNoise } from './shot-noise';
import { speckleNoise } from './speckle-noise';

const NOISES: Corruption[] = [gaussianNoise, shotNoise, impulseNoise, speckleNoise];

describeWithReference('noise corruptions match the generator in distribution (README tolerance 3)', () => {
  for (const corruption of NOISES) {
    for (const severity of SEVERITIES) {
      it(`${corruption.name} severity ${severity}: mad, mean, std, psnr within 6·sd + floor of the seed spread`, () =>
        expectWithinSeedSpread(corruption, severity, [2024]));
    }
  }
});

describe('noise corruptions are reproducible from the rng', () => {
  const image = Uint8Array.from({ length: 3072 }, (_, i) => (i * 37) % 256);
  for (const corruption of NOISES) {
    it(`${corruption.name}: same seed, same output; another seed, another output`, () => {
      const a = corruption.apply(image, 3, { rng: Rng.fromSeed(7) });
      const b = corruption.apply(image, 3, { rng: Rng.fromSeed(7) });
      const c = corruption.apply(image, 3, { rng: Rng.fromSeed(8) });
      expect(a).toEqual(b);
      expect(a).not.toEqual(c);
      expect(a.length).toBe(3072);
    });
  }
});
