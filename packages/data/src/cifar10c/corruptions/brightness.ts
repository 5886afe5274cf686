import type { Corruption } from '../corruption';
import { assertCifarImage, severityValue } from '../ops/image-buffers';
import { hsvAdjust } from './hsv-adjust';

/** Added to the HSV value channel per severity 1–5. */
const SHIFTS = [0.05, 0.1, 0.15, 0.2, 0.3] as const;

/**
 * CIFAR-10-C `brightness` (deterministic): adds 0.05–0.3 to the HSV value (scikit-image HSV),
 * clipped to [0, 1], truncated to uint8 (docs/cifar10c.md §2.11).
 */
export const brightness: Corruption = {
  name: 'brightness',
  random: false,
  apply(image, severity) {
    assertCifarImage(image);
    return hsvAdjust(image, 2, 1, severityValue(SHIFTS, severity));
  },
};
