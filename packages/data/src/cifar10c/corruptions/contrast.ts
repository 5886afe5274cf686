import type { Corruption } from '../corruption';
import { assertCifarImage, IMAGE_LENGTH, severityValue } from '../ops/image-buffers';

/** Contrast factor per severity 1–5. */
const FACTORS = [0.75, 0.5, 0.4, 0.3, 0.15] as const;

/**
 * CIFAR-10-C `contrast` (deterministic): `(u − μ)·c + μ` with μ the per-channel mean of the image
 * in [0, 1] and c = 0.75–0.15, clipped and truncated to uint8 (docs/cifar10c.md §2.12).
 */
export const contrast: Corruption = {
  name: 'contrast',
  random: false,
  apply(image, severity) {
    assertCifarImage(image);
    const factor = severityValue(FACTORS, severity);
    let red = 0,
      green = 0,
      blue = 0;
    // NumPy reduces the two outer axes by sequential accumulation per channel
    for (let i = 0; i < IMAGE_LENGTH; i += 3) {
      red += image[i] / 255;
      green += image[i + 1] / 255;
      blue += image[i + 2] / 255;
    }
    const means = [red / 1024, green / 1024, blue / 1024];
    const out = new Uint8Array(IMAGE_LENGTH);
    for (let i = 0; i < IMAGE_LENGTH; i++) {
      const mean = means[i % 3];
      const v = (image[i] / 255 - mean) * factor + mean;
      out[i] = v > 0 ? (v >= 1 ? 255 : Math.floor(v * 255)) : 0;
    }
    return out;
  },
};
