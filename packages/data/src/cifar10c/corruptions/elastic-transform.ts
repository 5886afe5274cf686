import { InvalidArgumentError } from '@moco-robust/core';
import type { Corruption } from '../corruption';
import { gaussianFilter } from '../ops/gaussian-filter';
import { assertCifarImage, IMAGE_LENGTH, severityValue, toUnitFloat32, unitToUint8 } from '../ops/image-buffers';
import { getAffineTransform, warpAffineBilinear } from '../ops/opencv-warp-affine';

/** Recorded draws of one `elastic_transform` image (as in `params/elastic_transform_s<N>*`). */
export interface ElasticTransformDraws {
  /** U(−A, A) offsets of the three affine points as float32: p0.x, p0.y, p1.x, p1.y, p2.x, p2.y. */
  affineOffsets: ArrayLike<number>;
  /** Raw U(−1, 1) column displacement field before smoothing, 32×32 row-major. */
  uniformDx: ArrayLike<number>;
  /** Raw U(−1, 1) row displacement field before smoothing, 32×32 row-major. */
  uniformDy: ArrayLike<number>;
}

/**
 * Displacement scale alpha, smoothing sigma and affine jitter A (pixels) per severity 1–5 (upstream fractions × 32).
 */
const PARAMETERS = [
  [32 * 0, 32 * 0, 32 * 0.08],
  [32 * 0.05, 32 * 0.2, 32 * 0.07],
  [32 * 0.08, 32 * 0.06, 32 * 0.06],
  [32 * 0.1, 32 * 0.04, 32 * 0.05],
  [32 * 0.1, 32 * 0.03, 32 * 0.03],
] as const;
/** The affine source points (x, y): centre 16 ± 10. */
const SOURCE_POINTS = [26, 26, 26, 6, 6, 6];

const unit = new Float32Array(IMAGE_LENGTH);
const warped = new Float32Array(IMAGE_LENGTH);
const result = new Float32Array(IMAGE_LENGTH);
const fieldX = new Float64Array(1024);
const fieldY = new Float64Array(1024);
const destination = new Float64Array(6);

/** Half-sample symmetric index (SciPy `reflect`): −1 → 0, n → n − 1. */
function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  let p = ((i % period) + period) % period;
  if (p >= n) p = period - 1 - p;
  return p;
}

/** A displacement field: the smoothed U(−1, 1) draws × alpha, cast to float32 (into `field`). */
function displacement(
  field: Float64Array,
  raw: ArrayLike<number> | undefined,
  draw: () => number,
  alpha: number,
  sigma: number,
  name: string,
): void {
  if (raw !== undefined && raw.length !== 1024) {
    throw new InvalidArgumentError({
      argument: `draws.${name}`,
      expected: '32×32 = 1024 values',
      received: `${raw.length} values`,
    });
  }
  for (let i = 0; i < 1024; i++) field[i] = raw === undefined ? draw() : raw[i];
  gaussianFilter(field, [32, 32], { sigma, truncate: 3, mode: 'reflect' }, field);
  for (let i = 0; i < 1024; i++) field[i] = Math.fround(field[i] * alpha);
}

/**
 * CIFAR-10-C `elastic_transform` (random): a random affine warp (OpenCV `warpAffine`, reflect-101)
 * followed by a smoothed random displacement field sampled bilinearly (SciPy `map_coordinates`,
 * half-sample reflect), in float32, truncated to uint8 (docs/cifar10c.md §2.13).
 */
export const elasticTransform: Corruption<ElasticTransformDraws> = {
  name: 'elastic_transform',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    const [alpha, sigma, jitter] = severityValue(PARAMETERS, severity);
    const draws = context.draws;
    const rng = context.rng;
    if (draws !== undefined && draws.affineOffsets?.length !== 6) {
      throw new InvalidArgumentError({
        argument: 'draws.affineOffsets',
        expected: '6 values',
        received: draws.affineOffsets,
      });
    }
    for (let i = 0; i < 6; i++) {
      const offset = Math.fround(draws === undefined ? rng.uniform(-jitter, jitter) : draws.affineOffsets[i]);
      destination[i] = Math.fround(SOURCE_POINTS[i] + offset);
    }
    const matrix = getAffineTransform(SOURCE_POINTS, destination);
    warpAffineBilinear(toUnitFloat32(image, unit), 32, 32, 3, matrix, warped);
    // U[−1, 1) on a 2⁻³¹ grid (one 32-bit draw)
    const uniform = () => rng.nextUint32() * 4.656612873077393e-10 - 1;
    displacement(fieldX, draws?.uniformDx, uniform, alpha, sigma, 'uniformDx');
    displacement(fieldY, draws?.uniformDy, uniform, alpha, sigma, 'uniformDy');
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const p = y * 32 + x;
        const row = y + fieldY[p];
        const column = x + fieldX[p];
        const r = Math.floor(row),
          c = Math.floor(column);
        const wy1 = row - r,
          wy0 = 1 - wy1,
          wx1 = column - c,
          wx0 = 1 - wx1;
        const r0 = reflectIndex(r, 32) * 96,
          r1 = reflectIndex(r + 1, 32) * 96;
        const c0 = reflectIndex(c, 32) * 3,
          c1 = reflectIndex(c + 1, 32) * 3;
        for (let k = 0; k < 3; k++) {
          // SciPy accumulates value·w_row·w_col over the 2×2 taps, rows outer
          let sum = warped[r0 + c0 + k] * wy0 * wx0;
          sum += warped[r0 + c1 + k] * wy0 * wx1;
          sum += warped[r1 + c0 + k] * wy1 * wx0;
          sum += warped[r1 + c1 + k] * wy1 * wx1;
          result[p * 3 + k] = sum;
        }
      }
    }
    return unitToUint8(result);
  },
};
