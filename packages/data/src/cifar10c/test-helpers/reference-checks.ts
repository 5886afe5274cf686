// Test-only checks of corruptions against the CIFAR-10-C reference, with the README's tolerances.
import { Rng } from '@moco-robust/core';
import { cifar10cReferenceDir } from '@moco-robust/testing';
import { describe, expect } from 'vitest';
import type { Corruption, FrostTexture, Severity } from '../corruption';
import { cleanReferenceImages, referenceOutputs, referenceStatistics } from './reference';

// the library's list of the five severities, for test loops
export { SEVERITIES } from '../registry';

/** `describe` that skips when `../shared` lacks the sample or the reference (outside CI; in CI their absence fails). */
export function describeWithReference(name: string, body: () => void): void {
  describe.skipIf(cleanReferenceImages() === undefined || cifar10cReferenceDir() === undefined)(name, body);
}

/** README tolerance 3: floors added to 6·sd of the seed spread ([0, 1] units; dB for PSNR). */
const FLOORS = { mad: 0.001, mean: 0.001, std: 0.001, psnr: 0.1 } as const;
const STATISTICS = ['mad', 'mean', 'std', 'psnr'] as const;

/**
 * 64-image averages of per-image mad, mean, std ([0,1] units) and PSNR (dB, infinite ones excluded), as `stats.json →
 * meta`.
 */
export function imageStatistics(
  clean: Uint8Array[],
  corrupted: Uint8Array[],
): { mad: number; mean: number; std: number; psnr: number } {
  let mad = 0,
    mean = 0,
    std = 0,
    psnr = 0,
    finite = 0;
  for (let n = 0; n < clean.length; n++) {
    const a = clean[n],
      b = corrupted[n];
    let sumAbs = 0,
      sum = 0,
      sumSquares = 0;
    for (let i = 0; i < a.length; i++) {
      const d = b[i] - a[i];
      sumAbs += Math.abs(d);
      sum += d;
      sumSquares += d * d;
    }
    const m = sum / a.length;
    mad += sumAbs / a.length / 255;
    mean += m / 255;
    std += Math.sqrt(Math.max(sumSquares / a.length - m * m, 0)) / 255;
    const mse = sumSquares / a.length;
    if (mse > 0) {
      psnr += 10 * Math.log10((255 * 255) / mse);
      finite++;
    }
  }
  const count = clean.length;
  return { mad: mad / count, mean: mean / count, std: std / count, psnr: psnr / finite };
}

/** Largest absolute difference and the fraction of values exactly equal between two image lists. */
export function compareImages(
  ours: Uint8Array[],
  reference: Uint8Array[],
): { maxDiff: number; exactFraction: number; offByOne: number } {
  let maxDiff = 0,
    equal = 0,
    total = 0,
    offByOne = 0;
  for (let n = 0; n < reference.length; n++) {
    for (let i = 0; i < reference[n].length; i++) {
      const d = Math.abs(ours[n][i] - reference[n][i]);
      if (d > maxDiff) maxDiff = d;
      if (d === 0) equal++;
      else if (d === 1) offByOne++;
      total++;
    }
  }
  return { maxDiff, exactFraction: equal / total, offByOne };
}

/** What {@link corruptReferenceImages} passes the corruption besides the image. */
export interface ReferenceRun<Draws> {
  /** Recorded draws per image index (tolerance 2); without them the corruption draws from the rng. */
  drawsFor?: (index: number) => Draws;
  /** Seed of the one rng shared by the 64 images; default 0. */
  seed?: number;
  frostTextures?: FrostTexture[];
}

/** Applies `corruption` at `severity` to the 64 clean reference images. */
export function corruptReferenceImages<Draws>(
  corruption: Corruption<Draws>,
  severity: Severity,
  run: ReferenceRun<Draws> = {},
): Uint8Array[] {
  const rng = Rng.fromSeed(run.seed ?? 0);
  return cleanReferenceImages()!.images.map((image, index) =>
    corruption.apply(image, severity, { rng, draws: run.drawsFor?.(index), frostTextures: run.frostTextures }),
  );
}

/**
 * README tolerances 1 and 2: on the 64 reference images (with recorded draws for a random
 * corruption), |ours − reference| ≤ 1 everywhere and more than 99.9 % of the values exact.
 */
export function expectReferenceMatch<Draws>(
  corruption: Corruption<Draws>,
  severity: Severity,
  run: ReferenceRun<Draws> = {},
): void {
  const result = compareImages(
    corruptReferenceImages(corruption, severity, run),
    referenceOutputs(corruption.name, severity).images,
  );
  expect(result.maxDiff, `off by one: ${result.offByOne}`).toBeLessThanOrEqual(1);
  expect(result.exactFraction).toBeGreaterThan(0.999);
}

/**
 * README tolerance 3: the 64-image mad, mean, std and PSNR averaged over `seeds` lie within
 * 6·sd + floor of the reference's spread over seeds.
 */
export function expectWithinSeedSpread(
  corruption: Corruption,
  severity: Severity,
  seeds: number[],
  frostTextures?: FrostTexture[],
): void {
  const clean = cleanReferenceImages()!.images;
  const averages = { mad: 0, mean: 0, std: 0, psnr: 0 };
  for (const seed of seeds) {
    const statistics = imageStatistics(clean, corruptReferenceImages(corruption, severity, { seed, frostTextures }));
    for (const key of STATISTICS) averages[key] += statistics[key] / seeds.length;
  }
  const spread = referenceStatistics(corruption.name, severity).seed_spread!;
  for (const key of STATISTICS) {
    const [mean, sd] = spread[key];
    expect(Math.abs(averages[key] - mean), `${key}: ours ${averages[key]}, seeds ${mean} ± ${sd}`).toBeLessThanOrEqual(
      6 * sd + FLOORS[key],
    );
  }
}
