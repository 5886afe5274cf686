import type { Corruption } from '../corruption';
import { assertCifarImage, severityValue } from '../ops/image-buffers';
import { pilBoxResize } from '../ops/pil-box-resize';

/** Intermediate side `int(32·factor)` for factors 0.95, 0.9, 0.85, 0.75, 0.65 (severity 1–5). */
const SIDES = [30, 28, 27, 24, 20] as const;

/**
 * CIFAR-10-C `pixelate` (deterministic): Pillow BOX resize of the 8-bit image down to 30–20 pixels
 * and back to 32 (docs/cifar10c.md §2.14, B4).
 */
export const pixelate: Corruption = {
  name: 'pixelate',
  random: false,
  apply(image, severity) {
    assertCifarImage(image);
    const side = severityValue(SIDES, severity);
    return pilBoxResize(pilBoxResize(image, 32, 32, 3, side, side), side, side, 3, 32, 32);
  },
};
