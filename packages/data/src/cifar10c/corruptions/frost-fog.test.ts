import { MocoRobustError, Rng } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FrostTexture } from '../corruption';
import { loadFrostTextures } from '../frost-textures';
import { MissingFrostTexturesError } from '../missing-frost-textures-error';
import { referenceDraws, referenceFrostTextures } from '../test-helpers/reference';
import {
  describeWithReference,
  expectReferenceMatch,
  expectWithinSeedSpread,
  SEVERITIES,
} from '../test-helpers/reference-checks';
import { fog } from './fog';
import { frost } from './frost';

describeWithReference('frost and fog match the original generator', () => {
  let textures: FrostTexture[];
  beforeAll(async () => {
    textures = (await referenceFrostTextures())!;
  });

  it('loads the five frost textures in frost_index order with the recorded sizes', () => {
    expect(textures.map((t) => [t.height, t.width])).toEqual([
      [120, 180],
      [63, 112],
      [63, 112],
      [70, 105],
      [99, 132],
    ]);
  });

  for (const severity of SEVERITIES) {
    it(`frost severity ${severity} fed the recorded draws: |ts − ref| ≤ 1 everywhere`, () => {
      const draws = referenceDraws('frost', severity);
      expectReferenceMatch(frost, severity, {
        frostTextures: textures,
        drawsFor: (i) => ({
          frostIndex: draws[i].frost_index as number,
          rowStart: draws[i].row_start as number,
          colStart: draws[i].col_start as number,
        }),
      });
    });
    it(`frost severity ${severity} with its own draws: statistics within the seed spread`, () =>
      expectWithinSeedSpread(frost, severity, [11, 12, 13], textures));
    it(`fog severity ${severity}: statistics within the seed spread`, () =>
      expectWithinSeedSpread(fog, severity, [11, 12, 13]));
  }
});

describe('frost without textures', () => {
  const image = new Uint8Array(3072).fill(100);
  it('throws the typed MissingFrostTexturesError, not a crash elsewhere', () => {
    let caught: unknown;
    try {
      frost.apply(image, 1, { rng: Rng.fromSeed(1) });
    } catch (error) {
      caught = error;
    }
    expect(MocoRobustError.isInstance(caught)).toBe(true);
    expect(MissingFrostTexturesError.isMissingFrostTextures(caught)).toBe(true);
    expect(String((caught as Error).message)).toMatch(/loadFrostTextures/);
  });
  it('loadFrostTextures on a missing folder throws MissingFrostTexturesError', async () => {
    await expect(loadFrostTextures('/nonexistent/frost')).rejects.toMatchObject({ code: 'missing-frost-textures' });
  });
});

describe('fog', () => {
  it('is reproducible from the rng (same seed, same output; another seed, another output)', () => {
    const image = Uint8Array.from({ length: 3072 }, (_, i) => (i * 37) % 256);
    const a = fog.apply(image, 5, { rng: Rng.fromSeed(3) });
    expect(fog.apply(image, 5, { rng: Rng.fromSeed(3) })).toEqual(a);
    expect(fog.apply(image, 5, { rng: Rng.fromSeed(4) })).not.toEqual(a);
  });
  it('with an injected flat plasma map is (u + a)·m/(m + a)', () => {
    const image = new Uint8Array(3072).fill(51); // u = 0.2 = m
    const out = fog.apply(image, 4, { rng: Rng.fromSeed(0), draws: { plasma: new Float64Array(1024).fill(0.5) } });
    expect(out[0]).toBe(Math.floor((((0.2 + 0.5) * 0.2) / 1.2) * 255));
  });
});
