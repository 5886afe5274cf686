import { InvalidArgumentError } from '@moco-robust/core';
import type { FloatBuffer } from './image-buffers';

/**
 * Precomputed sampling of one `clipped_zoom`: crop, up-scaled size, trim, and per kept output index the source index
 * and linear weights.
 */
export interface ClippedZoomPlan {
  /** Side of the centre crop, `ceil(side / zoom)`. */
  crop: number;
  /** First cropped row (= column), `(side − crop) div 2`. */
  top: number;
  /** Side after up-scaling, `round(crop · zoom)` (ties to even). */
  zoomedSide: number;
  /** First kept row (= column) of the up-scaled crop, `(zoomedSide − side) div 2`. */
  trim: number;
  /** Lower source index per kept output index (relative to the crop). */
  index: Int32Array;
  /** Weight of `index` and of `index + 1`. */
  weight0: Float64Array;
  weight1: Float64Array;
  /** True when the zoom reproduces its input exactly (crop = side, no resampling: factors 1.00, 1.01 at 32). */
  identity: boolean;
}

const planCache = new Map<string, ClippedZoomPlan>();

/** Python's `round` on a float: to nearest, ties to even. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The crop, SciPy `zoom(order=1)` sampling and trim of `clipped_zoom` for a side and a factor (cached). */
export function clippedZoomPlan(side: number, zoom: number): ClippedZoomPlan {
  const key = `${side}:${zoom}`;
  let plan = planCache.get(key);
  if (plan) return plan;
  const crop = Math.ceil(side / zoom);
  const top = Math.trunc((side - crop) / 2);
  const n = roundHalfEven(crop * zoom);
  if (n < side) {
    throw new InvalidArgumentError({
      argument: 'zoom',
      expected: `a factor whose up-scaled crop covers ${side} pixels (zoom ≥ 1)`,
      received: zoom,
    });
  }
  const trim = Math.trunc((n - side) / 2);
  // scipy.ndimage.zoom without grid mode: source coordinate o·(crop−1)/(n−1) ("align corners")
  const step = n > 1 ? (crop - 1) / (n - 1) : 1;
  const index = new Int32Array(side);
  const weight0 = new Float64Array(side);
  const weight1 = new Float64Array(side);
  for (let k = 0; k < side; k++) {
    const coordinate = (k + trim) * step;
    let lower = Math.floor(coordinate);
    if (lower > crop - 2) lower = Math.max(crop - 2, 0);
    const t = coordinate - lower;
    index[k] = lower;
    weight0[k] = 1 - t;
    weight1[k] = t;
  }
  plan = { crop, top, zoomedSide: n, trim, index, weight0, weight1, identity: crop === side && n === side };
  planCache.set(key, plan);
  return plan;
}

/**
 * True when two plans sample identically (same crop, position, up-scaled size and trim: the indices
 * and weights depend on nothing else), so their zooms of one image are equal value for value.
 */
export function sameZoomSampling(a: ClippedZoomPlan, b: ClippedZoomPlan): boolean {
  return a.crop === b.crop && a.top === b.top && a.zoomedSide === b.zoomedSide && a.trim === b.trim;
}

/**
 * The generator's `clipped_zoom`: centre crop of `ceil(side/zoom)` pixels, bilinear up-scaling with
 * aligned corners (SciPy `zoom`, order 1) to `round(crop·zoom)`, then the (not centred) trim back
 * to the input size; channels are never mixed and the result keeps the input's precision.
 * @param shape `[side, side]` or `[side, side, channels]` (square images only, as upstream).
 * @param zoom factor ≥ 1.
 */
export function clippedZoom<T extends FloatBuffer>(
  input: T,
  shape: readonly [number, number] | readonly [number, number, number],
  zoom: number,
  output?: T,
): T {
  const [height, width, channels = 1] = shape;
  if (height !== width || input.length !== height * width * channels) {
    throw new InvalidArgumentError({
      argument: 'shape',
      expected: `a square [side, side, channels?] matching ${input.length} values`,
      received: shape,
    });
  }
  if (!(zoom >= 1) || !Number.isFinite(zoom)) {
    throw new InvalidArgumentError({ argument: 'zoom', expected: 'a finite factor ≥ 1', received: zoom });
  }
  const out = output ?? new (input.constructor as { new (n: number): T })(input.length);
  if (out === input) {
    throw new InvalidArgumentError({
      argument: 'output',
      expected: 'a buffer other than the input',
      received: 'the input buffer',
    });
  }
  const { top, index, weight0, weight1, identity } = clippedZoomPlan(height, zoom);
  if (identity) {
    out.set(input); // source coordinate o·1 = o exactly: every weight is 1 or 0
    return out;
  }
  const rowStride = width * channels;
  for (let y = 0; y < height; y++) {
    const r0 = (top + index[y]) * rowStride;
    const r1 = r0 + rowStride;
    const wy0 = weight0[y];
    const wy1 = weight1[y];
    let o = y * rowStride;
    for (let x = 0; x < width; x++) {
      const c0 = (top + index[x]) * channels;
      const c1 = c0 + channels;
      const wx0 = weight0[x];
      const wx1 = weight1[x];
      const a = r0 + c0,
        b = r0 + c1,
        c = r1 + c0,
        d = r1 + c1;
      if (channels === 3) {
        out[o++] = input[a] * wy0 * wx0 + input[b] * wy0 * wx1 + input[c] * wy1 * wx0 + input[d] * wy1 * wx1;
        out[o++] =
          input[a + 1] * wy0 * wx0 + input[b + 1] * wy0 * wx1 + input[c + 1] * wy1 * wx0 + input[d + 1] * wy1 * wx1;
        out[o++] =
          input[a + 2] * wy0 * wx0 + input[b + 2] * wy0 * wx1 + input[c + 2] * wy1 * wx0 + input[d + 2] * wy1 * wx1;
        continue;
      }
      for (let k = 0; k < channels; k++) {
        // SciPy sums the 2×2 neighbourhood as (value·w_row)·w_col, rows outer, columns inner
        out[o++] =
          input[a + k] * wy0 * wx0 + input[b + k] * wy0 * wx1 + input[c + k] * wy1 * wx0 + input[d + k] * wy1 * wx1;
      }
    }
  }
  return out;
}
