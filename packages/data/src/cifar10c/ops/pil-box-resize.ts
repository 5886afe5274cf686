import { InvalidArgumentError } from '@moco-robust/core';

/** Fixed-point taps of one Pillow resampling axis: `start[o]`, `count[o]` and `ksize` weights per output. */
interface BoxAxis {
  start: Int32Array;
  count: Int32Array;
  weights: Int32Array;
  ksize: number;
}

const PRECISION_BITS = 22; // Pillow's 8-bit resampling: 32 − 8 − 2
const axisCache = new Map<string, BoxAxis>();

/** Pillow 9.4 `precompute_coeffs` + `normalize_coeffs_8bpc` for the BOX filter (cached per size pair). */
function boxAxis(inSize: number, outSize: number): BoxAxis {
  const key = `${inSize}:${outSize}`;
  let axis = axisCache.get(key);
  if (axis) return axis;
  const scale = inSize / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = 0.5 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const taps = new Float64Array(ksize);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const t = (x + xmin - center + 0.5) / filterScale;
      taps[x] = t > -0.5 && t <= 0.5 ? 1 : 0;
      total += taps[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? taps[x] / total : taps[x];
      weights[o * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    start[o] = xmin;
    count[o] = xmax;
  }
  axis = { start, count, weights, ksize };
  axisCache.set(key, axis);
  return axis;
}

/** One Pillow 8-bit resampling pass along rows (`horizontal`) or columns, rounding to uint8. */
function resamplePass(
  input: Uint8Array,
  inHeight: number,
  inWidth: number,
  output: Uint8Array,
  outHeight: number,
  outWidth: number,
  channels: number,
  horizontal: boolean,
): void {
  const axis = horizontal ? boxAxis(inWidth, outWidth) : boxAxis(inHeight, outHeight);
  const { start, count, weights, ksize } = axis;
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const o = horizontal ? x : y;
      const first = start[o];
      const taps = count[o];
      const base = o * ksize;
      for (let c = 0; c < channels; c++) {
        let sum = half;
        for (let k = 0; k < taps; k++) {
          const source = horizontal
            ? (y * inWidth + first + k) * channels + c
            : ((first + k) * inWidth + x) * channels + c;
          sum += input[source] * weights[base + k];
        }
        const v = sum >> PRECISION_BITS; // Pillow's clip8
        output[(y * outWidth + x) * channels + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
}

/**
 * Pillow 9.4 `Image.resize(size, Image.BOX)` of a uint8 HWC image: a horizontal then a vertical
 * pass of whole-pixel box weights in 22-bit fixed point, each rounded to uint8 (SPEC B4); an axis
 * whose size does not change is not resampled.
 */
export function pilBoxResize(
  image: Uint8Array,
  height: number,
  width: number,
  channels: number,
  outHeight: number,
  outWidth: number,
): Uint8Array {
  if (image.length !== height * width * channels) {
    throw new InvalidArgumentError({
      argument: 'image',
      expected: `${height * width * channels} values (${height}×${width}×${channels})`,
      received: `${image.length} values`,
    });
  }
  if (!(Number.isInteger(outHeight) && Number.isInteger(outWidth) && outHeight > 0 && outWidth > 0)) {
    throw new InvalidArgumentError({
      argument: 'outHeight/outWidth',
      expected: 'positive integers',
      received: [outHeight, outWidth],
    });
  }
  let current = image;
  if (outWidth !== width) {
    const next = new Uint8Array(height * outWidth * channels);
    resamplePass(current, height, width, next, height, outWidth, channels, true);
    current = next;
  }
  if (outHeight !== height) {
    const next = new Uint8Array(outHeight * outWidth * channels);
    resamplePass(current, height, outWidth, next, outHeight, outWidth, channels, false);
    current = next;
  }
  return current === image ? image.slice() : current;
}
