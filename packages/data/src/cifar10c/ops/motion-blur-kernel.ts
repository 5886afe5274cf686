import { InvalidArgumentError } from '@moco-robust/core';
import type { FloatBuffer } from './image-buffers';
import { tapSums3 } from './tap-sums';

/** ImageMagick 6 motion-blur taps: one-sided Gaussian weights and the pixel offset of each tap. */
export interface MotionBlurKernel {
  /** Normalised weights, `w = 2·ceil(radius) + 1` taps, the largest on the pixel itself. */
  weights: Float64Array;
  /** Row offset of each tap (positive angles point down, towards +rows). */
  rowOffsets: Int32Array;
  /** Column offset of each tap (angle 0 points right, towards +columns). */
  columnOffsets: Int32Array;
}

const MAGICK_SQ2PI = 2.5066282746310002;
const MAGICK_EPSILON = 1e-12;
const weightCache = new Map<string, Float64Array>();

/** ImageMagick's `GetMotionBlurKernel` weights for a radius and sigma (pixels), cached. */
function motionBlurWeights(radius: number, sigma: number): Float64Array {
  const key = `${radius}:${sigma}`;
  let weights = weightCache.get(key);
  if (weights) return weights;
  const width = 2 * Math.ceil(radius) + 1; // GetOptimalKernelWidth1D for radius > 0
  const s = Math.abs(sigma) < MAGICK_EPSILON ? MAGICK_EPSILON : sigma;
  weights = new Float64Array(width);
  let normalize = 0;
  for (let i = 0; i < width; i++) {
    weights[i] = Math.exp(-(i * i) / (2 * s * s)) / (MAGICK_SQ2PI * s);
    normalize += weights[i];
  }
  for (let i = 0; i < width; i++) weights[i] /= normalize;
  weightCache.set(key, weights);
  return weights;
}

/**
 * The taps of ImageMagick 6's `MotionBlurImage(radius, sigma, angle)` (IM 6.9.11, as called by
 * Wand): `radius` > 0 and `sigma` in pixels, `angleDegrees` in degrees (0 = towards +columns).
 */
export function motionBlurKernel(radius: number, sigma: number, angleDegrees: number): MotionBlurKernel {
  if (!(radius > 0) || !Number.isFinite(radius)) {
    throw new InvalidArgumentError({ argument: 'radius', expected: 'a finite radius > 0 (pixels)', received: radius });
  }
  if (!Number.isFinite(angleDegrees)) {
    throw new InvalidArgumentError({
      argument: 'angleDegrees',
      expected: 'a finite angle in degrees',
      received: angleDegrees,
    });
  }
  const weights = motionBlurWeights(radius, sigma);
  const width = weights.length;
  const theta = (Math.PI * angleDegrees) / 180;
  const px = width * Math.sin(theta);
  const py = width * Math.cos(theta);
  const rowOffsets = new Int32Array(width);
  const columnOffsets = new Int32Array(width);
  for (let i = 0; i < width; i++) {
    columnOffsets[i] = Math.ceil((i * py) / Math.hypot(px, py) - 0.5);
    rowOffsets[i] = Math.ceil((i * px) / Math.hypot(px, py) - 0.5);
  }
  return { weights, rowOffsets, columnOffsets };
}

let paddedScratch = new Float64Array(0);
let tapDeltas = new Int32Array(0);
const sums = new Float64Array(3);

/**
 * ImageMagick 6 Q16 motion blur of an 8-bit HWC image with any number of channels, as the generator
 * runs it through Wand and PNG: values become 16-bit quanta (`v·257`), each output is
 * `round(Σ weightᵢ·quantum(pixel + offsetᵢ))` with edge pixels repeated, and the 8-bit PNG result
 * is `floor(Q / 257)`. A float input holds [0, 1] values and is first quantised to 8 bits with
 * `trunc8(clip(v, 0, 1)·255)` (the generator's snow layer path). Returns uint8 HWC.
 * @param shape `[height, width]` or `[height, width, channels]`.
 */
export function motionBlur(
  image: Uint8Array | FloatBuffer,
  shape: readonly [number, number] | readonly [number, number, number],
  kernel: MotionBlurKernel,
  output = new Uint8Array(image.length),
): Uint8Array {
  const [height, width, channels = 1] = shape;
  const length = height * width * channels;
  if (image.length !== length || output.length !== length) {
    throw new InvalidArgumentError({
      argument: 'image',
      expected: `${length} values for shape [${shape.join(', ')}] (and an output as long)`,
      received: `${image.length} values`,
    });
  }
  const { weights, rowOffsets, columnOffsets } = kernel;
  const taps = weights.length;
  // quanta with an edge-replicated border wide enough for every tap (IM's "edge" virtual pixels)
  let pad = 0;
  for (let i = 0; i < taps; i++) pad = Math.max(pad, Math.abs(rowOffsets[i]), Math.abs(columnOffsets[i]));
  const paddedWidth = width + 2 * pad;
  const paddedRow = paddedWidth * channels;
  const paddedLength = (height + 2 * pad) * paddedRow;
  if (paddedScratch.length < paddedLength) paddedScratch = new Float64Array(paddedLength);
  const padded = paddedScratch;
  const isByte = image instanceof Uint8Array;
  for (let py = 0; py < height + 2 * pad; py++) {
    const y = py < pad ? 0 : py >= height + pad ? height - 1 : py - pad;
    for (let px = 0; px < paddedWidth; px++) {
      const x = px < pad ? 0 : px >= width + pad ? width - 1 : px - pad;
      for (let c = 0; c < channels; c++) {
        const v = image[(y * width + x) * channels + c];
        const byte = isByte ? v : v > 0 ? (v >= 1 ? 255 : Math.floor(v * 255)) : 0;
        padded[py * paddedRow + px * channels + c] = byte * 257;
      }
    }
  }
  if (tapDeltas.length < taps) tapDeltas = new Int32Array(taps);
  const deltas = tapDeltas;
  for (let i = 0; i < taps; i++) deltas[i] = rowOffsets[i] * paddedRow + columnOffsets[i] * channels;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      const base = (y + pad) * paddedRow + (x + pad) * channels;
      if (channels === 3) {
        tapSums3(padded, base, weights, deltas, taps, sums, 0);
        output[o] = quantumToByte(sums[0]);
        output[o + 1] = quantumToByte(sums[1]);
        output[o + 2] = quantumToByte(sums[2]);
        continue;
      }
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let i = 0; i < taps; i++) sum += weights[i] * padded[base + c + deltas[i]];
        output[o + c] = quantumToByte(sum);
      }
    }
  }
  return output;
}

/**
 * A weighted sum of 16-bit quanta → ImageMagick's `ClampToQuantum` (round) → this build's 8-bit PNG writer
 * (truncates).
 */
function quantumToByte(sum: number): number {
  const q = sum <= 0 ? 0 : sum >= 65535 ? 65535 : Math.floor(sum + 0.5);
  return Math.floor(q / 257);
}
