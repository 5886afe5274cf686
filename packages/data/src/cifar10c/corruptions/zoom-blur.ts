import type { Corruption } from '../corruption';
import { clippedZoom, clippedZoomPlan, sameZoomSampling } from '../ops/clipped-zoom';
import { assertCifarImage, IMAGE_LENGTH, severityValue, toUnitFloat32, unitToUint8 } from '../ops/image-buffers';

/** Exclusive `stop` of NumPy's `arange(1, stop, 0.01)` per severity 1–5. */
const STOPS = [1.06, 1.11, 1.16, 1.21, 1.26] as const;

/**
 * The zoom factors of NumPy's `arange(1, stop, 0.01)`: `1 + i·δ` with `δ = (1 + 0.01) − 1`
 * (how NumPy fills a float range) and `ceil((stop − 1)/0.01)` values.
 */
export function zoomBlurFactors(stop: number): Float64Array {
  const count = Math.ceil((stop - 1) / 0.01);
  const delta = 1 + 0.01 - 1;
  const factors = new Float64Array(count);
  for (let i = 0; i < count; i++) factors[i] = 1 + i * delta;
  return factors;
}

const FACTORS = STOPS.map(zoomBlurFactors);
/**
 * Per severity, whether each factor samples like the one before it (1.02 and 1.03 both crop 32 and up-scale to 33,
 * …):
 * then its zoom is reused.
 */
const REPEATS = FACTORS.map((factors) =>
  Array.from(
    factors,
    (factor, i) => i > 0 && sameZoomSampling(clippedZoomPlan(32, factor), clippedZoomPlan(32, factors[i - 1])),
  ),
);
const unit = new Float32Array(IMAGE_LENGTH);
const zoomed = new Float32Array(IMAGE_LENGTH);
const sum = new Float32Array(IMAGE_LENGTH);

/** `sum += addend` in float32, as NumPy's `out +=` on float32 arrays. */
function addInto(sum: Float32Array, addend: Float32Array): void {
  for (let i = 0; i < sum.length; i++) sum[i] += addend[i];
}

/**
 * CIFAR-10-C `zoom_blur` (deterministic): the float32 mean of the image and its `clipped_zoom`s by 1.00, 1.01, …
 * (7 to 26 factors up to 1.06–1.25 for severities 1–5), truncated to uint8 (docs/cifar10c.md §2.7).
 */
export const zoomBlur: Corruption = {
  name: 'zoom_blur',
  random: false,
  apply(image, severity) {
    assertCifarImage(image);
    const factors = severityValue(FACTORS, severity);
    const repeats = REPEATS[severity - 1];
    toUnitFloat32(image, unit);
    sum.fill(0);
    for (let f = 0; f < factors.length; f++) {
      if (!repeats[f]) clippedZoom(unit, [32, 32, 3], factors[f], zoomed);
      addInto(sum, zoomed);
    }
    const divisor = factors.length + 1;
    for (let i = 0; i < IMAGE_LENGTH; i++) sum[i] = Math.fround(unit[i] + sum[i]) / divisor;
    return unitToUint8(sum);
  },
};
