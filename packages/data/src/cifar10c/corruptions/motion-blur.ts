import type { Corruption } from '../corruption';
import { assertCifarImage, severityValue } from '../ops/image-buffers';
import { motionBlur as imageMagickMotionBlur, motionBlurKernel } from '../ops/motion-blur-kernel';

/** Recorded draws of one `motion_blur` image (as in `params/motion_blur_s<N>.json`). */
export interface MotionBlurDraws {
  /** Blur direction in degrees, drawn uniformly in [−45, 45) (0 = towards +columns, positive = downwards). */
  angleDeg: number;
}

/** ImageMagick radius and sigma (pixels) per severity 1–5. */
const PARAMETERS = [
  [6, 1],
  [6, 1.5],
  [6, 2],
  [8, 2],
  [9, 2.5],
] as const;

/**
 * CIFAR-10-C `motion_blur` (random angle): ImageMagick 6 motion blur (radius 6–9, sigma 1–2.5
 * pixels) in a direction drawn uniformly in [−45°, 45°) per image (docs/cifar10c.md §2.6, B3).
 */
export const motionBlur: Corruption<MotionBlurDraws> = {
  name: 'motion_blur',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    const [radius, sigma] = severityValue(PARAMETERS, severity);
    const angle = context.draws?.angleDeg ?? context.rng.uniform(-45, 45);
    return imageMagickMotionBlur(image, [32, 32, 3], motionBlurKernel(radius, sigma, angle));
  },
};
