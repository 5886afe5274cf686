import { InvalidArgumentError } from '@moco-robust/core';
import type { FloatBuffer } from './image-buffers';

/** Boundary extension of {@link gaussianFilter}: `nearest` repeats the edge, `reflect` is half-sample symmetric. */
export type GaussianFilterMode = 'nearest' | 'reflect';

/** Options of {@link gaussianFilter}. */
export interface GaussianFilterOptions {
  /** Standard deviation in pixels, the same along rows and columns (0 leaves the image unchanged). */
  sigma: number;
  /** Kernel radius in standard deviations, `r = int(truncate·sigma + 0.5)`; default 4 (SciPy's). */
  truncate?: number;
  /** Boundary extension; default `nearest` (scikit-image's `gaussian` default). */
  mode?: GaussianFilterMode;
}

const kernelCache = new Map<string, Float64Array>();
let lineScratch = new Float64Array(256);

/**
 * NumPy's pairwise float64 sum (8 accumulators, then the tail), started from the identity 0 as `ndarray.sum()` does.
 */
function numpySum(values: Float64Array): number {
  const n = values.length;
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[i];
    return sum;
  }
  const r = values.slice(0, 8);
  let i = 8;
  for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += values[i + j];
  let sum = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
  for (; i < n; i++) sum += values[i];
  return sum;
}

/**
 * SciPy's normalised 1-D Gaussian kernel (`_gaussian_kernel1d`), taps −r..r with
 * `r = int(truncate·sigma + 0.5)`; cached per (sigma, truncate).
 */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  const key = `${sigma}:${truncate}`;
  let kernel = kernelCache.get(key);
  if (kernel) return kernel;
  const radius = Math.trunc(truncate * sigma + 0.5);
  const scale = -0.5 / (sigma * sigma);
  kernel = new Float64Array(2 * radius + 1);
  for (let k = -radius; k <= radius; k++) kernel[k + radius] = Math.exp(scale * (k * k));
  const sum = numpySum(kernel);
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  kernelCache.set(key, kernel);
  return kernel;
}

function extendedIndex(index: number, length: number, mode: GaussianFilterMode): number {
  if (mode === 'nearest') return index < 0 ? 0 : index >= length ? length - 1 : index;
  const period = 2 * length;
  let i = ((index % period) + period) % period;
  if (i >= length) i = period - 1 - i;
  return i;
}

const extensionCache = new Map<string, Int32Array>();

/** Source index of each position −r..n−1+r of a line extended by `mode` (cached). */
function lineExtension(length: number, radius: number, mode: GaussianFilterMode): Int32Array {
  const key = `${length}:${radius}:${mode}`;
  let extension = extensionCache.get(key);
  if (extension) return extension;
  extension = new Int32Array(length + 2 * radius);
  for (let i = -radius; i < length + radius; i++) extension[i + radius] = extendedIndex(i, length, mode);
  extensionCache.set(key, extension);
  return extension;
}

/** One SciPy `correlate1d` pass over lines of `length` values (`step` apart, lines starting at `starts`). */
function filterLines(
  input: FloatBuffer,
  output: FloatBuffer,
  kernel: Float64Array,
  mode: GaussianFilterMode,
  length: number,
  step: number,
  starts: Int32Array,
): void {
  const radius = (kernel.length - 1) >> 1;
  const extension = lineExtension(length, radius, mode);
  const needed = extension.length;
  if (lineScratch.length < needed) lineScratch = new Float64Array(needed);
  const line = lineScratch;
  const centreWeight = kernel[radius];
  for (let s = 0; s < starts.length; s++) {
    const start = starts[s];
    for (let i = 0; i < needed; i++) line[i] = input[start + extension[i] * step];
    for (let o = 0; o < length; o++) {
      const centre = o + radius;
      // SciPy's symmetric-kernel order: centre tap, then mirrored pairs from the outermost inwards
      let acc = line[centre] * centreWeight;
      for (let j = radius; j > 0; j--) acc += (line[centre - j] + line[centre + j]) * kernel[radius - j];
      output[start + o * step] = acc;
    }
  }
}

const startsCache = new Map<string, Int32Array>();

function lineStarts(height: number, width: number, channels: number, axis: 0 | 1): Int32Array {
  const key = `${height}:${width}:${channels}:${axis}`;
  let starts = startsCache.get(key);
  if (starts) return starts;
  const lines = axis === 0 ? width * channels : height * channels;
  starts = new Int32Array(lines);
  let n = 0;
  if (axis === 0) for (let x = 0; x < width * channels; x++) starts[n++] = x;
  else for (let y = 0; y < height; y++) for (let c = 0; c < channels; c++) starts[n++] = y * width * channels + c;
  startsCache.set(key, starts);
  return starts;
}

/**
 * scikit-image's `gaussian` (SciPy `gaussian_filter`) over the two spatial axes of a row-major
 * HW or HWC buffer: rows first, then columns, channels never mixed; the intermediate and the
 * result keep the input's precision (float32 stays float32). `output` may be `input` itself.
 * @param shape `[height, width]` or `[height, width, channels]`.
 */
export function gaussianFilter<T extends FloatBuffer>(
  input: T,
  shape: readonly [number, number] | readonly [number, number, number],
  options: GaussianFilterOptions,
  output?: T,
): T {
  const [height, width, channels = 1] = shape;
  const { sigma, truncate = 4, mode = 'nearest' } = options;
  if (input.length !== height * width * channels) {
    throw new InvalidArgumentError({
      argument: 'input',
      expected: `${height * width * channels} values for shape [${shape.join(', ')}]`,
      received: `${input.length} values`,
    });
  }
  if (!(sigma >= 0) || !Number.isFinite(sigma)) {
    throw new InvalidArgumentError({ argument: 'sigma', expected: 'a finite number ≥ 0 (pixels)', received: sigma });
  }
  const out = output ?? new (input.constructor as { new (n: number): T })(input.length);
  if (sigma <= 1e-15) {
    if (out !== input) out.set(input);
    return out;
  }
  const kernel = gaussianKernel1d(sigma, truncate);
  filterLines(input, out, kernel, mode, height, width * channels, lineStarts(height, width, channels, 0));
  filterLines(out, out, kernel, mode, width, channels, lineStarts(height, width, channels, 1));
  return out;
}
