import { InvalidArgumentError } from '@moco-robust/core';
import type { Corruption } from '../corruption';
import { gaussianFilter } from '../ops/gaussian-filter';
import { assertCifarImage, IMAGE_LENGTH, severityValue, toUnitFloat64, unitToUint8 } from '../ops/image-buffers';

/** Recorded draws of one `glass_blur` image (as in `params/glass_blur_s<N>.json`). */
export interface GlassBlurDraws {
  /**
   * One digit 0–3 per pixel visit (iteration, rows 31→2, columns 31→2): `dx = c % 2 − 1`,
   * `dy = floor(c / 2) − 1`; 900 digits per iteration.
   */
  shifts: string;
}

/** Gaussian sigma (pixels) and iterations per severity 1–5 (max_delta is 1 throughout). */
const PARAMETERS = [
  [0.05, 1],
  [0.25, 1],
  [0.4, 1],
  [0.25, 2],
  [0.4, 2],
] as const;
const VISITS_PER_ITERATION = 30 * 30;

const unit = new Float64Array(IMAGE_LENGTH);
const pixels = new Uint8Array(IMAGE_LENGTH);

/**
 * CIFAR-10-C `glass_blur` (random): Gaussian blur, truncation to uint8, then for each pixel from
 * the bottom-right up to row/column 2 a copy from a random neighbour at offset {−1, 0}² (a copy,
 * not the swap the upstream code appears to write), repeated 1–2 times, then blurred again (docs/cifar10c.md §2.5).
 */
export const glassBlur: Corruption<GlassBlurDraws> = {
  name: 'glass_blur',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    const [sigma, iterations] = severityValue(PARAMETERS, severity);
    const shifts = context.draws?.shifts;
    if (shifts !== undefined && (shifts.length !== iterations * VISITS_PER_ITERATION || !/^[0-3]*$/.test(shifts))) {
      throw new InvalidArgumentError({
        argument: 'draws.shifts',
        expected: `${iterations * VISITS_PER_ITERATION} digits 0–3 for severity ${severity}`,
        received: `${shifts.length} characters starting ${JSON.stringify(shifts.slice(0, 12))}`,
      });
    }
    gaussianFilter(toUnitFloat64(image, unit), [32, 32, 3], { sigma }, unit);
    // np.uint8 cast, values already in [0, 255]
    for (let i = 0; i < IMAGE_LENGTH; i++) pixels[i] = Math.floor(unit[i] * 255);
    let visit = 0;
    let bits = 0;
    for (let iteration = 0; iteration < iterations; iteration++) {
      for (let h = 31; h > 1; h--) {
        for (let w = 31; w > 1; w--) {
          let dx: number, dy: number;
          if (shifts !== undefined) {
            const code = shifts.charCodeAt(visit) - 48;
            dx = (code % 2) - 1;
            dy = (code >> 1) - 1;
          } else {
            // NumPy randint(-1, 1) excludes +1: two fair bits per visit, 16 visits per uint32
            if ((visit & 15) === 0) bits = context.rng.nextUint32();
            dx = (bits & 1) - 1;
            dy = ((bits >>> 1) & 1) - 1;
            bits >>>= 2;
          }
          visit++;
          const target = (h * 32 + w) * 3;
          const source = ((h + dy) * 32 + w + dx) * 3;
          pixels[target] = pixels[source];
          pixels[target + 1] = pixels[source + 1];
          pixels[target + 2] = pixels[source + 2];
        }
      }
    }
    for (let i = 0; i < IMAGE_LENGTH; i++) unit[i] = pixels[i] / 255;
    gaussianFilter(unit, [32, 32, 3], { sigma }, unit);
    return unitToUint8(unit);
  },
};
