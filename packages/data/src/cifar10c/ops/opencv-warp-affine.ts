import { InvalidArgumentError } from '@moco-robust/core';

/** A 2×3 affine map `[m00, m01, m02, m10, m11, m12]` (x' = m00·x + m01·y + m02, y' = m10·x + m11·y + m12). */
export type AffineMatrix = Float64Array;

/** Round half to even (C's `lrint` in the default rounding mode, OpenCV's `cvRound`). */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * OpenCV 4.6 `getAffineTransform`: the affine map taking three source points to three destination
 * points (`[x0, y0, x1, y1, x2, y2]` each), solved as OpenCV's 6×6 system by LU with partial pivoting in double.
 */
export function getAffineTransform(source: ArrayLike<number>, destination: ArrayLike<number>): AffineMatrix {
  const a = new Float64Array(36);
  const b = new Float64Array(6);
  for (let i = 0; i < 3; i++) {
    const j = i * 12,
      k = i * 12 + 6;
    a[j] = a[k + 3] = source[2 * i];
    a[j + 1] = a[k + 4] = source[2 * i + 1];
    a[j + 2] = a[k + 5] = 1;
    b[i * 2] = destination[2 * i];
    b[i * 2 + 1] = destination[2 * i + 1];
  }
  const m = 6;
  for (let i = 0; i < m; i++) {
    let pivot = i;
    for (let j = i + 1; j < m; j++) if (Math.abs(a[j * m + i]) > Math.abs(a[pivot * m + i])) pivot = j;
    if (Math.abs(a[pivot * m + i]) < Number.EPSILON * 10) {
      throw new InvalidArgumentError({
        argument: 'source',
        expected: 'three points that are not collinear',
        received: Array.from(source),
      });
    }
    if (pivot !== i) {
      for (let j = i; j < m; j++) {
        const t = a[i * m + j];
        a[i * m + j] = a[pivot * m + j];
        a[pivot * m + j] = t;
      }
      const t = b[i];
      b[i] = b[pivot];
      b[pivot] = t;
    }
    const d = -1 / a[i * m + i];
    for (let j = i + 1; j < m; j++) {
      const alpha = a[j * m + i] * d;
      for (let k = i + 1; k < m; k++) a[j * m + k] += alpha * a[i * m + k];
      b[j] += alpha * b[i];
    }
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < m; k++) s -= a[i * m + k] * b[k];
    b[i] = s / a[i * m + i];
  }
  return b;
}

function reflect101(p: number, length: number): number {
  if (length === 1) return 0;
  while (p < 0 || p >= length) p = p < 0 ? -p : 2 * length - p - 2;
  return p;
}

/**
 * OpenCV 4.6 `warpAffine(src, M, size, INTER_LINEAR, BORDER_REFLECT_101)` of a float32 HWC image to
 * the same size: M is inverted, source coordinates are quantised to 1/32 pixel in fixed point, and
 * the four bilinear taps are summed in float32 (docs/cifar10c.md §2.13 step 3).
 */
export function warpAffineBilinear(
  input: Float32Array,
  height: number,
  width: number,
  channels: number,
  matrix: AffineMatrix,
  output = new Float32Array(input.length),
): Float32Array {
  if (input.length !== height * width * channels || output.length !== input.length) {
    throw new InvalidArgumentError({
      argument: 'input',
      expected: `${height * width * channels} values (and an output as long)`,
      received: `${input.length} values`,
    });
  }
  const [m00, m01, m02, m10, m11, m12] = matrix;
  let det = m00 * m11 - m01 * m10;
  det = det !== 0 ? 1 / det : 0;
  const a11 = m11 * det,
    a22 = m00 * det,
    a12 = m01 * -det,
    a21 = m10 * -det;
  const b1 = -a11 * m02 - a12 * m12;
  const b2 = -a21 * m02 - a22 * m12;
  const rowStride = width * channels;
  const f = Math.fround;
  for (let y = 0; y < height; y++) {
    const x0Fixed = roundHalfEven((a12 * y + b1) * 1024) + 16;
    const y0Fixed = roundHalfEven((a22 * y + b2) * 1024) + 16;
    for (let x = 0; x < width; x++) {
      const xq = (x0Fixed + roundHalfEven(a11 * x * 1024)) >> 5;
      const yq = (y0Fixed + roundHalfEven(a21 * x * 1024)) >> 5;
      const sx = xq >> 5,
        sy = yq >> 5;
      const fx = (xq & 31) / 32,
        fy = (yq & 31) / 32;
      const w0 = (1 - fy) * (1 - fx),
        w1 = (1 - fy) * fx,
        w2 = fy * (1 - fx),
        w3 = fy * fx; // exact in float32
      const c0 = reflect101(sx, width) * channels,
        c1 = reflect101(sx + 1, width) * channels;
      const r0 = reflect101(sy, height) * rowStride,
        r1 = reflect101(sy + 1, height) * rowStride;
      const o = y * rowStride + x * channels;
      for (let c = 0; c < channels; c++) {
        const sum = f(f(f(input[r0 + c0 + c] * w0) + f(input[r0 + c1 + c] * w1)) + f(input[r1 + c0 + c] * w2));
        output[o + c] = f(sum + f(input[r1 + c1 + c] * w3));
      }
    }
  }
  return output;
}
