import { InvalidArgumentError } from '@moco-robust/core';
import type { Corruption } from '../corruption';
import { assertCifarImage, IMAGE_LENGTH, severityValue } from '../ops/image-buffers';
import { plasmaFractal } from '../ops/plasma-fractal';

/** Injected draws of one `fog` image (the reference records none). */
export interface FogDraws {
  /** The normalised 32×32 plasma map in [0, 1], row-major. */
  plasma: Float64Array;
}

/** Fog strength and plasma amplitude decay per severity 1–5. */
const PARAMETERS = [
  [0.2, 3],
  [0.5, 3],
  [0.75, 2.5],
  [1, 2],
  [1.5, 1.75],
] as const;

const plasmaScratch = new Float64Array(1024);

/**
 * CIFAR-10-C `fog` (random): adds `a·P` (a = 0.2–1.5) of a fresh plasma fractal P to every
 * channel and rescales by `m/(m + a)` with m the image maximum, truncated to uint8 (docs/cifar10c.md §2.10, B7).
 */
export const fog: Corruption<FogDraws> = {
  name: 'fog',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    const [strength, decay] = severityValue(PARAMETERS, severity);
    let plasma: Float64Array;
    if (context.draws !== undefined) {
      plasma = context.draws.plasma;
      if (!(plasma instanceof Float64Array) || plasma.length !== 1024) {
        throw new InvalidArgumentError({
          argument: 'draws.plasma',
          expected: 'a Float64Array of 32×32 values',
          received: plasma,
        });
      }
    } else {
      const rng = context.rng;
      plasma = plasmaFractal(decay, (low, high) => rng.uniform(low, high), plasmaScratch);
    }
    let maximum = 0;
    for (let i = 0; i < IMAGE_LENGTH; i++) if (image[i] > maximum) maximum = image[i];
    const max = maximum / 255;
    const denominator = max + strength;
    const out = new Uint8Array(IMAGE_LENGTH);
    for (let p = 0, i = 0; p < 1024; p++) {
      const added = strength * plasma[p];
      for (let c = 0; c < 3; c++, i++) {
        const v = ((image[i] / 255 + added) * max) / denominator;
        out[i] = v > 0 ? (v >= 1 ? 255 : Math.floor(v * 255)) : 0;
      }
    }
    return out;
  },
};
