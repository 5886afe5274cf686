import * as tf from '@tensorflow/tfjs-core';
import { assertImages, type Rng } from '@moco-robust/core';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, grayscale } from './color';

/** A batched augmentation pipeline with torchvision's semantics; every field optional (off when absent). */
export interface AugmentationPipeline {
  /** RandomResizedCrop to the input size: area fraction `scale`, aspect `ratio` (default [3/4, 4/3]). */
  randomResizedCrop?: { scale: [number, number]; ratio?: [number, number] };
  /** Horizontal flip with probability p (0.5). */
  horizontalFlip?: number;
  /** ColorJitter(brightness, contrast, saturation, hue) in a random order per image, applied with probability `p`. */
  colorJitter?: { brightness: number; contrast: number; saturation: number; hue: number; p: number };
  /** RandomGrayscale with probability p. */
  grayscale?: number;
  /** GaussianBlur with σ ∈ `sigma`, kernel `kernelSize` (odd), applied with probability `p`. */
  gaussianBlur?: { sigma: [number, number]; kernelSize: number; p: number };
}

/**
 * MoCo-v1 on CIFAR-10 as the MoCo CIFAR-10 demo trains it (the project's one source for v1; docs/protocol.md,
 * "Pre-training"): RandomResizedCrop(32, scale 0.08–1), horizontal flip, ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8,
 * RandomGrayscale 0.2. (MoCo-v1's ImageNet recipe — crop scale 0.2–1, ColorJitter(0.4, 0.4, 0.4, 0.4) always — is
 * not used.)
 */
export const MOCO_V1_AUGMENTATION: AugmentationPipeline = {
  randomResizedCrop: { scale: [0.08, 1] },
  colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 },
  grayscale: 0.2,
  horizontalFlip: 0.5,
};

/**
 * MoCo-v2's CIFAR recipe (the demo's v1 augmentation plus MoCo-v2's blur): RandomResizedCrop(32, scale 0.08–1),
 * ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8, RandomGrayscale 0.2, GaussianBlur σ ∈ [0.1, 2] with p 0.5 (kernel 3:
 * ~10% of 32, as MoCo-v2's 23 is of 224), horizontal flip.
 */
export const MOCO_V2_AUGMENTATION: AugmentationPipeline = {
  randomResizedCrop: { scale: [0.08, 1] },
  colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 },
  grayscale: 0.2,
  gaussianBlur: { sigma: [0.1, 2], kernelSize: 3, p: 0.5 },
  horizontalFlip: 0.5,
};

/** Applies `pipeline` to a batch [N, H, W, 3] in [0, 1] with per-image random parameters from `rng`. */
export function augment(images: tf.Tensor4D, pipeline: AugmentationPipeline, rng: Rng): tf.Tensor4D {
  assertImages(images, 'images');
  const n = images.shape[0];
  const per = (f: () => number) => Float32Array.from({ length: n }, f);
  return tf.tidy(() => {
    let x = cropAndFlip(images, pipeline, rng);
    const jitter = pipeline.colorJitter;
    if (jitter) {
      const apply = per(() => (rng.float() < jitter.p ? 1 : 0));
      const factors = {
        brightness: per(() => rng.uniform(Math.max(0, 1 - jitter.brightness), 1 + jitter.brightness)),
        contrast: per(() => rng.uniform(Math.max(0, 1 - jitter.contrast), 1 + jitter.contrast)),
        saturation: per(() => rng.uniform(Math.max(0, 1 - jitter.saturation), 1 + jitter.saturation)),
        hue: per(() => rng.uniform(-jitter.hue, jitter.hue)),
      };
      // torchvision draws a random order of the four adjustments for every image
      const orders = Array.from({ length: n }, () => rng.permutation(4));
      const ops = [
        (t: tf.Tensor4D, mask: Float32Array) =>
          adjustBrightness(t, tf.tensor1d(mixIdentity(factors.brightness, mask, 1))),
        (t: tf.Tensor4D, mask: Float32Array) => adjustContrast(t, tf.tensor1d(mixIdentity(factors.contrast, mask, 1))),
        (t: tf.Tensor4D, mask: Float32Array) =>
          adjustSaturation(t, tf.tensor1d(mixIdentity(factors.saturation, mask, 1))),
        (t: tf.Tensor4D, mask: Float32Array) => adjustHue(t, tf.tensor1d(mixIdentity(factors.hue, mask, 0))),
      ];
      for (let position = 0; position < 4; position++) {
        for (let op = 0; op < 4; op++) {
          const mask = per(() => 0);
          orders.forEach((order, i) => (mask[i] = order[position] === op && apply[i] === 1 ? 1 : 0));
          if (mask.some((m) => m === 1)) x = ops[op](x, mask);
        }
      }
    }
    if (pipeline.grayscale) {
      const p = pipeline.grayscale;
      const mask = tf.tensor4d(
        per(() => (rng.float() < p ? 1 : 0)),
        [n, 1, 1, 1],
      );
      x = tf.add(tf.mul(tf.tile(grayscale(x), [1, 1, 1, 3]), mask), tf.mul(x, tf.sub(1, mask))) as tf.Tensor4D;
    }
    if (pipeline.gaussianBlur) {
      const { sigma, kernelSize, p } = pipeline.gaussianBlur;
      const sigmas = per(() => (rng.float() < p ? rng.uniform(sigma[0], sigma[1]) : 0));
      x = gaussianBlur(x, sigmas, kernelSize);
    }
    return x;
  });
}

/** Makes two augmented views of a batch (NHWC in [0, 1]), seeded: what MoCo and RoCL take as `augment`. */
export type TwoViews = (images: tf.Tensor4D, rng: Rng) => [tf.Tensor4D, tf.Tensor4D];

/** Two independently augmented views of a batch (MoCo's query and key views). */
export function twoViews(images: tf.Tensor4D, pipeline: AugmentationPipeline, rng: Rng): [tf.Tensor4D, tf.Tensor4D] {
  return [augment(images, pipeline, rng.fork('view1')), augment(images, pipeline, rng.fork('view2'))];
}

function mixIdentity(values: Float32Array, mask: Float32Array, identity: number): Float32Array {
  return values.map((v, i) => (mask[i] ? v : identity));
}

/**
 * RandomResizedCrop + horizontal flip in one bilinear `cropAndResize` with half-pixel centres
 * (torchvision/PIL's sampling, edges clamped by a 1-pixel replicate pad); crop boxes drawn as
 * torchvision does (10 attempts, then the centre crop with the ratio clamped).
 */
function cropAndFlip(images: tf.Tensor4D, pipeline: AugmentationPipeline, rng: Rng): tf.Tensor4D {
  const [n, height, width] = images.shape;
  const crop = pipeline.randomResizedCrop;
  const flipP = pipeline.horizontalFlip ?? 0;
  if (!crop && flipP === 0) return tf.clone(images);
  const boxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const [top, left, h, w] = crop
      ? cropBox(height, width, crop.scale, crop.ratio ?? [3 / 4, 4 / 3], rng)
      : [0, 0, height, width];
    // source coordinate of output pixel o: top + (o + 0.5)·h/H − 0.5, shifted by the 1-pixel pad
    const y1 = (top + h / (2 * height) - 0.5 + 1) / (height + 1);
    const y2 = (top + h - h / (2 * height) - 0.5 + 1) / (height + 1);
    const x1 = (left + w / (2 * width) - 0.5 + 1) / (width + 1);
    const x2 = (left + w - w / (2 * width) - 0.5 + 1) / (width + 1);
    const flip = rng.float() < flipP;
    boxes.set([y1, flip ? x2 : x1, y2, flip ? x1 : x2], i * 4);
  }
  const padded = tf.mirrorPad(
    images,
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    'symmetric',
  ) as tf.Tensor4D;
  return tf.image.cropAndResize(
    padded,
    tf.tensor2d(boxes, [n, 4]),
    tf.range(0, n, 1, 'int32') as tf.Tensor1D,
    [height, width],
    'bilinear',
  );
}

/** torchvision's `RandomResizedCrop.get_params`: [top, left, height, width]. */
export function cropBox(
  height: number,
  width: number,
  scale: [number, number],
  ratio: [number, number],
  rng: Rng,
): [number, number, number, number] {
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) return [rng.int(height - h + 1), rng.int(width - w + 1), h, w];
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

/** Separable Gaussian blur with a per-image σ ([N]; 0 = unchanged), reflect padding (torchvision). */
function gaussianBlur(x: tf.Tensor4D, sigmas: Float32Array, kernelSize: number): tf.Tensor4D {
  const radius = (kernelSize - 1) / 2;
  const n = sigmas.length;
  const weights: Float32Array[] = Array.from({ length: kernelSize }, () => new Float32Array(n));
  sigmas.forEach((sigma, i) => {
    if (sigma === 0) {
      weights[radius][i] = 1;
      return;
    }
    const raw = Array.from({ length: kernelSize }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
    const total = raw.reduce((a, b) => a + b, 0);
    raw.forEach((v, k) => (weights[k][i] = v / total));
  });
  const pass = (t: tf.Tensor4D, axis: 1 | 2) => {
    const size = t.shape[axis];
    const padding: Array<[number, number]> = [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
    padding[axis] = [radius, radius];
    const padded = tf.mirrorPad(t, padding, 'reflect');
    let out: tf.Tensor = tf.zerosLike(t);
    for (let k = 0; k < kernelSize; k++) {
      const begin = [0, 0, 0, 0];
      begin[axis] = k;
      const sliceSize = [-1, -1, -1, -1];
      sliceSize[axis] = size;
      out = tf.add(out, tf.mul(tf.slice(padded, begin, sliceSize), tf.tensor4d(weights[k], [n, 1, 1, 1])));
    }
    return out as tf.Tensor4D;
  };
  return pass(pass(x, 1), 2);
}
