import { InvalidArgumentError } from '@moco-robust/core';
import type { Corruption } from '../corruption';
import { gaussianFilter } from '../ops/gaussian-filter';
import { assertCifarImage, IMAGE_LENGTH, severityValue, toUnitFloat32, unitToUint8 } from '../ops/image-buffers';
import { canny } from '../ops/opencv-canny';
import { fillNormal } from '../ops/random-draws';
import { distanceTransform5x5 } from '../ops/opencv-distance-transform';
import { boxBlur3x3Float32, boxBlur3x3Uint8, equalizeHist, filter2D3x3Uint8 } from '../ops/opencv-filters';

/** Recorded draws of one `spatter` image (as in `params/spatter_s<N>_normal.f32`). */
export interface SpatterDraws {
  /** The N(loc, scale) liquid layer before smoothing, 32×32 row-major. */
  normalField: ArrayLike<number>;
}

/** loc, scale, smoothing sigma, threshold, intensity (water) or mask sigma (mud), mud? — per severity 1–5. */
const PARAMETERS = [
  [0.62, 0.1, 0.7, 0.7, 0.5, false],
  [0.65, 0.1, 0.8, 0.7, 0.5, false],
  [0.65, 0.3, 1, 0.69, 0.5, false],
  [0.65, 0.1, 0.7, 0.69, 0.6, true],
  [0.65, 0.1, 0.5, 0.68, 0.6, true],
] as const;
const EMBOSS = [-2, -1, 0, -1, 1, 1, 0, 1, 2];
const WATER = [175, 238, 238].map((v) => Math.fround(v / 255));
const MUD = [63, 42, 20].map((v) => Math.fround(v / 255));

const liquid = new Float64Array(1024);
const liquid8 = new Uint8Array(1024);
const edges = new Uint8Array(1024);
const distances = new Float32Array(1024);
const blurred = new Float32Array(1024);
const texture = new Uint8Array(1024);
const embossed = new Uint8Array(1024);
const mask = new Float32Array(1024);
const unit = new Float32Array(IMAGE_LENGTH);

/** Water (severities 1–3): pale-turquoise drops whose strength follows the layer's edge distance texture. */
function water(intensity: number): void {
  for (let i = 0; i < 1024; i++) liquid8[i] = Math.floor(liquid[i] * 255) & 255; // uint8 cast (wraps above 255)
  canny(liquid8, 32, 32, 50, 150, edges);
  for (let i = 0; i < 1024; i++) edges[i] = 255 - edges[i];
  distanceTransform5x5(edges, 32, 32, distances);
  for (let i = 0; i < 1024; i++) if (distances[i] > 20) distances[i] = 20;
  boxBlur3x3Float32(distances, 32, 32, blurred);
  for (let i = 0; i < 1024; i++) texture[i] = Math.floor(blurred[i]);
  equalizeHist(texture, texture);
  filter2D3x3Uint8(texture, 32, 32, EMBOSS, embossed);
  boxBlur3x3Uint8(embossed, 32, 32, texture);
  let maximum = 0;
  for (let i = 0; i < 1024; i++) {
    mask[i] = liquid8[i] * texture[i]; // float32, exact
    if (mask[i] > maximum) maximum = mask[i];
  }
  const f = Math.fround;
  const weight = f(intensity);
  for (let p = 0, i = 0; p < 1024; p++) {
    const m = f(f(mask[p] / maximum) * weight); // 0/0 (no liquid at all) gives NaN → 0, as upstream
    for (let c = 0; c < 3; c++, i++) unit[i] = f(unit[i] + f(m * WATER[c]));
  }
}

/** Mud (severities 4–5): brown patches where the smoothed liquid mask reaches 0.8. */
function mud(threshold: number, maskSigma: number): void {
  for (let i = 0; i < 1024; i++) mask[i] = liquid[i] > threshold ? 1 : 0;
  gaussianFilter(mask, [32, 32], { sigma: maskSigma, mode: 'nearest' }, mask);
  const f = Math.fround;
  for (let p = 0, i = 0; p < 1024; p++) {
    const m = mask[p] < 0.8 ? 0 : mask[p];
    const keep = f(1 - m);
    for (let c = 0; c < 3; c++, i++) unit[i] = f(f(unit[i] * keep) + f(MUD[c] * m));
  }
}

/**
 * CIFAR-10-C `spatter` (random, extra corruption): a smoothed, thresholded N(loc, scale) liquid
 * layer becomes water drops (Canny edges, distance texture, emboss; severities 1–3) or mud
 * patches (severities 4–5), blended in float32 and truncated to uint8 (docs/cifar10c.md §2.18).
 */
export const spatter: Corruption<SpatterDraws> = {
  name: 'spatter',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    const [loc, scale, smoothing, threshold, intensity, isMud] = severityValue(PARAMETERS, severity);
    const field = context.draws?.normalField;
    if (context.draws !== undefined && field?.length !== 1024) {
      throw new InvalidArgumentError({
        argument: 'draws.normalField',
        expected: '32×32 = 1024 values',
        received: field,
      });
    }
    if (field === undefined) {
      fillNormal(context.rng, liquid, scale);
      for (let i = 0; i < 1024; i++) liquid[i] += loc;
    } else {
      for (let i = 0; i < 1024; i++) liquid[i] = field[i];
    }
    gaussianFilter(liquid, [32, 32], { sigma: smoothing, mode: 'nearest' }, liquid);
    for (let i = 0; i < 1024; i++) if (liquid[i] < threshold) liquid[i] = 0;
    toUnitFloat32(image, unit);
    if (isMud) mud(threshold, intensity);
    else water(intensity);
    return unitToUint8(unit);
  },
};
