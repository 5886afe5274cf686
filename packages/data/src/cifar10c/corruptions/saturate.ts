import type { Corruption } from '../corruption';
import { assertCifarImage, severityValue } from '../ops/image-buffers';
import { hsvAdjust } from './hsv-adjust';

/** HSV saturation multiplier and offset per severity 1–5. */
const PARAMETERS = [
  [0.3, 0],
  [0.1, 0],
  [1.5, 0],
  [2, 0.1],
  [2.5, 0.2],
] as const;

/**
 * CIFAR-10-C `saturate` (deterministic, extra corruption): HSV saturation `S·multiplier + offset`
 * (0.3–2.5, 0–0.2), clipped to [0, 1], truncated to uint8 (docs/cifar10c.md §2.19).
 */
export const saturate: Corruption = {
  name: 'saturate',
  random: false,
  apply(image, severity) {
    assertCifarImage(image);
    const [multiplier, offset] = severityValue(PARAMETERS, severity);
    return hsvAdjust(image, 1, multiplier, offset);
  },
};
