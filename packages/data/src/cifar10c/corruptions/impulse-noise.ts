import type { Corruption } from '../corruption';
import { assertCifarImage, IMAGE_LENGTH, severityValue } from '../ops/image-buffers';

/** Fraction of values replaced per severity 1–5. */
const AMOUNTS = [0.01, 0.02, 0.03, 0.05, 0.07] as const;

/**
 * CIFAR-10-C `impulse_noise` (random): scikit-image salt & pepper — each value independently
 * replaced with probability 0.01–0.07, by 255 (salt) or 0 (pepper) with equal odds, so the
 * specks are coloured; other values are unchanged (docs/cifar10c.md §2.3).
 */
export const impulseNoise: Corruption = {
  name: 'impulse_noise',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    const amount = severityValue(AMOUNTS, severity);
    const rng = context.rng;
    const out = new Uint8Array(IMAGE_LENGTH);
    for (let i = 0; i < IMAGE_LENGTH; i++) {
      // unchanged values survive u·255 truncation exactly, so they are copied
      out[i] = rng.float() < amount ? (rng.float() < 0.5 ? 255 : 0) : image[i];
    }
    return out;
  },
};
