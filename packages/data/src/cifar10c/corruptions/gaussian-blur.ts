import type { Corruption } from '../corruption';
import { gaussianFilter } from '../ops/gaussian-filter';
import { assertCifarImage, IMAGE_LENGTH, severityValue, toUnitFloat64, unitToUint8 } from '../ops/image-buffers';

/** Gaussian standard deviation (pixels) per severity 1–5. */
const SIGMAS = [0.4, 0.6, 0.7, 0.8, 1] as const;

const unit = new Float64Array(IMAGE_LENGTH);

/**
 * CIFAR-10-C `gaussian_blur` (deterministic, extra corruption): scikit-image `gaussian` per
 * channel with sigma 0.4–1 pixels, edge pixels repeated, truncated to uint8 (docs/cifar10c.md §2.17).
 */
export const gaussianBlur: Corruption = {
  name: 'gaussian_blur',
  random: false,
  apply(image, severity) {
    assertCifarImage(image);
    const sigma = severityValue(SIGMAS, severity);
    toUnitFloat64(image, unit);
    gaussianFilter(unit, [32, 32, 3], { sigma, mode: 'nearest' }, unit);
    return unitToUint8(unit);
  },
};
