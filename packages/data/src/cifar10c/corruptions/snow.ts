import { InvalidArgumentError } from '@moco-robust/core';
import type { Corruption } from '../corruption';
import { clippedZoom } from '../ops/clipped-zoom';
import { assertCifarImage, IMAGE_LENGTH, severityValue } from '../ops/image-buffers';
import { motionBlur, motionBlurKernel } from '../ops/motion-blur-kernel';
import { fillNormal } from '../ops/random-draws';

/** Recorded draws of one `snow` image (as in `params/snow_s<N>.json` and `snow_s<N>_normal.f32`). */
export interface SnowDraws {
  /** Motion-blur direction of the flakes in degrees, drawn uniformly in [−135, −45). */
  angleDeg: number;
  /** The N(loc, scale) snow field before the zoom, 32×32 row-major. */
  normalField: ArrayLike<number>;
}

/** loc, scale, zoom, threshold, blur radius, blur sigma, blend — per severity 1–5. */
const PARAMETERS = [
  [0.1, 0.2, 1, 0.6, 8, 3, 0.95],
  [0.1, 0.2, 1, 0.5, 10, 4, 0.9],
  [0.15, 0.3, 1.75, 0.55, 10, 4, 0.9],
  [0.25, 0.3, 2.25, 0.6, 12, 6, 0.85],
  [0.3, 0.3, 1.25, 0.65, 14, 12, 0.8],
] as const;
const RED = Math.fround(0.299),
  GREEN = Math.fround(0.587),
  BLUE = Math.fround(0.114);

const field = new Float64Array(1024);
const zoomed = new Float64Array(1024);
const flakes = new Uint8Array(1024);

/**
 * CIFAR-10-C `snow` (random): a thresholded, zoomed N(loc, scale) snow layer, motion-blurred with
 * ImageMagick's kernel at a random angle in [−135°, −45°), is added twice (as is and rotated by
 * 180°) to the image brightened towards `1.5·gray + 0.5`, truncated to uint8 (docs/cifar10c.md §2.8).
 */
export const snow: Corruption<SnowDraws> = {
  name: 'snow',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    const [loc, scale, zoom, threshold, radius, sigma, blend] = severityValue(PARAMETERS, severity);
    const draws = context.draws;
    if (draws === undefined) {
      fillNormal(context.rng, field, scale);
      for (let i = 0; i < 1024; i++) field[i] += loc;
    } else {
      if (draws.normalField?.length !== 1024) {
        throw new InvalidArgumentError({
          argument: 'draws.normalField',
          expected: '32×32 = 1024 values',
          received: draws.normalField,
        });
      }
      for (let i = 0; i < 1024; i++) field[i] = draws.normalField[i];
    }
    clippedZoom(field, [32, 32], zoom, zoomed);
    for (let i = 0; i < 1024; i++) if (zoomed[i] < threshold) zoomed[i] = 0;
    const angle = draws?.angleDeg ?? context.rng.uniform(-135, -45);
    motionBlur(zoomed, [32, 32], motionBlurKernel(radius, sigma, angle), flakes); // quantises trunc(clip(S)·255) first
    const f = Math.fround;
    const keep = f(blend);
    const lift = f(1 - blend);
    const out = new Uint8Array(IMAGE_LENGTH);
    for (let p = 0, i = 0; p < 1024; p++, i += 3) {
      const r = f(image[i] / 255),
        g = f(image[i + 1] / 255),
        b = f(image[i + 2] / 255);
      const gray = f(f(f(r * RED) + f(g * GREEN)) + f(b * BLUE));
      const bright = f(f(gray * 1.5) + 0.5);
      for (let c = 0; c < 3; c++) {
        const x = c === 0 ? r : c === 1 ? g : b;
        const lifted = f(f(keep * x) + f(lift * (x > bright ? x : bright)));
        const v = lifted + flakes[p] / 255 + flakes[1023 - p] / 255;
        out[i + c] = v > 0 ? (v >= 1 ? 255 : Math.floor(v * 255)) : 0;
      }
    }
    return out;
  },
};
