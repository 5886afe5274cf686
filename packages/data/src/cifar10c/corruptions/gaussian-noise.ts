import type { Corruption } from '../corruption';
import { assertCifarImage, IMAGE_LENGTH, severityValue, unitToUint8 } from '../ops/image-buffers';
import { fillNormal } from '../ops/random-draws';

/** Noise standard deviation ([0, 1] units) per severity 1–5. */
const SIGMAS = [0.04, 0.06, 0.08, 0.09, 0.1] as const;

const noise = new Float64Array(IMAGE_LENGTH);

/**
 * CIFAR-10-C `gaussian_noise` (random): `u + N(0, σ²)` per value with σ 0.04–0.10 ([0, 1] units),
 * clipped and truncated to uint8 (docs/cifar10c.md §2.1).
 */
export const gaussianNoise: Corruption = {
  name: 'gaussian_noise',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    fillNormal(context.rng, noise, severityValue(SIGMAS, severity));
    for (let i = 0; i < IMAGE_LENGTH; i++) noise[i] += image[i] / 255;
    return unitToUint8(noise);
  },
};
