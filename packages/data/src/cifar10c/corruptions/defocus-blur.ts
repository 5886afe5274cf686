import type { Corruption } from '../corruption';
import { assertCifarImage, IMAGE_LENGTH, severityValue, unitToUint8 } from '../ops/image-buffers';
import { tapSums3 } from '../ops/tap-sums';

/** Disk radius and anti-alias sigma (pixels) per severity 1–5. */
const PARAMETERS = [
  [0.3, 0.4],
  [0.4, 0.5],
  [0.5, 0.6],
  [1, 0.2],
  [1.5, 0.1],
] as const;

/** Nonzero taps of a correlation kernel: offsets and float32 weights (widened to float64). */
interface SparseKernel {
  dy: Int32Array;
  dx: Int32Array;
  weights: Float64Array;
}

const SIDE = 17;
const HALF = 8;

const reflect101 = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);

/** OpenCV's 3-tap Gaussian for `sigma` (bit-exact `getGaussianKernel`, stored as float32): `[e, 1, e]/(1+2e)`. */
function gaussian3(sigma: number): [number, number] {
  const e = Math.exp((4 * -0.125) / (sigma * sigma));
  const inverse = 1 / (1 + e * 2);
  return [Math.fround(inverse), Math.fround(e * inverse)];
}

/**
 * The generator's `disk(radius, alias_blur)`: a 17×17 float32 disk normalised to sum 1, smoothed
 * by OpenCV `GaussianBlur` 3×3 (rows then columns, float32, reflect-101); only nonzero taps kept.
 */
export function defocusKernel(radius: number, aliasSigma: number): SparseKernel {
  const disk = new Float32Array(SIDE * SIDE);
  let count = 0;
  for (let y = -HALF; y <= HALF; y++) for (let x = -HALF; x <= HALF; x++) if (x * x + y * y <= radius * radius) count++;
  const value = Math.fround(1 / count);
  for (let y = -HALF; y <= HALF; y++)
    for (let x = -HALF; x <= HALF; x++)
      if (x * x + y * y <= radius * radius) disk[(y + HALF) * SIDE + x + HALF] = value;
  const [centre, side] = gaussian3(aliasSigma);
  const f = Math.fround;
  const rows = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const left = disk[y * SIDE + reflect101(x - 1, SIDE)];
      const right = disk[y * SIDE + reflect101(x + 1, SIDE)];
      rows[y * SIDE + x] = f(f(disk[y * SIDE + x] * centre) + f(f(left + right) * side));
    }
  }
  const dy: number[] = [],
    dx: number[] = [],
    weights: number[] = [];
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const up = rows[reflect101(y - 1, SIDE) * SIDE + x];
      const down = rows[reflect101(y + 1, SIDE) * SIDE + x];
      const w = f(f(rows[y * SIDE + x] * centre) + f(f(up + down) * side));
      if (w !== 0) {
        dy.push(y - HALF);
        dx.push(x - HALF);
        weights.push(w);
      }
    }
  }
  return { dy: Int32Array.from(dy), dx: Int32Array.from(dx), weights: Float64Array.from(weights) };
}

const KERNELS: SparseKernel[] = [];
const PAD = 2; // the smoothed disks reach 2 pixels at most (5×5)
const PADDED_SIDE = 32 + 2 * PAD;
const padded = new Float64Array(PADDED_SIDE * PADDED_SIDE * 3);
const blurred = new Float64Array(IMAGE_LENGTH);

/**
 * CIFAR-10-C `defocus_blur` (deterministic): each channel correlated (OpenCV `filter2D`, reflect-101 border) with
 * an anti-aliased disk of radius 0.3–1.5 pixels, truncated to uint8 (docs/cifar10c.md §2.4).
 */
export const defocusBlur: Corruption = {
  name: 'defocus_blur',
  random: false,
  apply(image, severity) {
    assertCifarImage(image);
    const [radius, aliasSigma] = severityValue(PARAMETERS, severity);
    const { dy, dx, weights } = (KERNELS[severity - 1] ??= defocusKernel(radius, aliasSigma));
    const taps = weights.length;
    const deltas = new Int32Array(taps);
    for (let t = 0; t < taps; t++) deltas[t] = (dy[t] * PADDED_SIDE + dx[t]) * 3;
    for (let py = 0; py < PADDED_SIDE; py++) {
      const y = reflect101(py - PAD, 32);
      for (let px = 0; px < PADDED_SIDE; px++) {
        const source = (y * 32 + reflect101(px - PAD, 32)) * 3;
        const target = (py * PADDED_SIDE + px) * 3;
        for (let c = 0; c < 3; c++) padded[target + c] = image[source + c] / 255;
      }
    }
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const base = ((y + PAD) * PADDED_SIDE + x + PAD) * 3;
        tapSums3(padded, base, weights, deltas, taps, blurred, (y * 32 + x) * 3);
      }
    }
    return unitToUint8(blurred);
  },
};
