import type { Corruption } from '../corruption';
import { assertCifarImage, severityValue } from '../ops/image-buffers';
import { jpegRoundTrip } from '../ops/jpeg';

/** JPEG quality per severity 1–5. */
const QUALITIES = [80, 65, 58, 50, 40] as const;

/**
 * CIFAR-10-C `jpeg_compression` (deterministic): a JPEG encode + decode at quality 80–40 with
 * libjpeg-turbo's exact arithmetic and Pillow's defaults (4:2:0, islow DCT; docs/cifar10c.md §2.15).
 */
export const jpegCompression: Corruption = {
  name: 'jpeg_compression',
  random: false,
  apply(image, severity) {
    assertCifarImage(image);
    return jpegRoundTrip(image, 32, 32, severityValue(QUALITIES, severity));
  },
};
