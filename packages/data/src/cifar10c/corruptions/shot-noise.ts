import type { Corruption } from '../corruption';
import { assertCifarImage, IMAGE_LENGTH, severityValue, unitToUint8 } from '../ops/image-buffers';
import { drawPoisson, type PoissonSampler, poissonSampler } from '../ops/random-draws';

/** Photon count scale `c` per severity 1–5 (fewer photons = more noise). */
const SCALES = [500, 250, 100, 75, 50] as const;

const noisy = new Float64Array(IMAGE_LENGTH);
/** Per severity, one sampler per pixel value 0–255 (rate `x/255·c`). */
const SAMPLERS: PoissonSampler[][] = [];

/**
 * CIFAR-10-C `shot_noise` (random): `Poisson(u·c)/c` per value with c 500–50, clipped and
 * truncated to uint8 (docs/cifar10c.md §2.2).
 */
export const shotNoise: Corruption = {
  name: 'shot_noise',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    const scale = severityValue(SCALES, severity);
    const samplers = (SAMPLERS[severity - 1] ??= Array.from({ length: 256 }, (_, x) =>
      poissonSampler((x / 255) * scale),
    ));
    for (let i = 0; i < IMAGE_LENGTH; i++) noisy[i] = drawPoisson(context.rng, samplers[image[i]]) / scale;
    return unitToUint8(noisy);
  },
};
