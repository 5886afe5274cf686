import type { Corruption } from '../corruption';
import { assertCifarImage, IMAGE_LENGTH, severityValue, unitToUint8 } from '../ops/image-buffers';
import { fillNormal } from '../ops/random-draws';

/** Multiplicative noise standard deviation per severity 1–5. */
const SIGMAS = [0.06, 0.1, 0.12, 0.16, 0.2] as const;

const noise = new Float64Array(IMAGE_LENGTH);

/**
 * CIFAR-10-C `speckle_noise` (random, extra corruption): `u + u·N(0, σ²)` per value with σ
 * 0.06–0.2, clipped and truncated to uint8 (docs/cifar10c.md §2.16).
 */
export const speckleNoise: Corruption = {
  name: 'speckle_noise',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    fillNormal(context.rng, noise, severityValue(SIGMAS, severity));
    for (let i = 0; i < IMAGE_LENGTH; i++) {
      const u = image[i] / 255;
      noise[i] = u + u * noise[i];
    }
    return unitToUint8(noise);
  },
};
