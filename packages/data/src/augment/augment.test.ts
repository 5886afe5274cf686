import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { augment, cropBox, MOCO_V1_AUGMENTATION, MOCO_V2_AUGMENTATION, twoViews } from './augment';
import { adjustHue } from './color';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const images = (n: number, seed = 1) => tf.randomUniform([n, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('augmentations', () => {
  it('MoCo-v1 is the MoCo CIFAR-10 demo augmentation and v2 the same plus the Gaussian blur (docs/protocol.md)', () => {
    expect(MOCO_V1_AUGMENTATION).toEqual({
      randomResizedCrop: { scale: [0.08, 1] },
      horizontalFlip: 0.5,
      colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 },
      grayscale: 0.2,
    });
    const { gaussianBlur, ...rest } = MOCO_V2_AUGMENTATION;
    expect(rest).toEqual(MOCO_V1_AUGMENTATION);
    expect(gaussianBlur).toEqual({ sigma: [0.1, 2], kernelSize: 3, p: 0.5 });
  });

  it('keep shapes and the [0, 1] range, reproduce with a seed, and leak nothing', () => {
    const x = images(16);
    for (const pipeline of [MOCO_V1_AUGMENTATION, MOCO_V2_AUGMENTATION]) {
      const before = tf.memory().numTensors;
      const [a, b] = twoViews(x, pipeline, Rng.fromSeed(3));
      expect(a.shape).toEqual([16, 32, 32, 3]);
      expect(tf.tidy(() => tf.min(a).dataSync()[0])).toBeGreaterThanOrEqual(0);
      expect(tf.tidy(() => tf.max(b).dataSync()[0])).toBeLessThanOrEqual(1 + 1e-6);
      expect(maxDiff(a, b)).toBeGreaterThan(0.01); // two different views
      const again = twoViews(x, pipeline, Rng.fromSeed(3));
      expect(maxDiff(a, again[0])).toBe(0);
      expect(maxDiff(b, again[1])).toBe(0);
      tf.dispose([a, b, ...again]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('the identity pipeline and the full-image crop return the input (half-pixel sampling is exact)', () => {
    const x = images(4);
    const same = augment(x, { randomResizedCrop: { scale: [1, 1], ratio: [1, 1] } }, Rng.fromSeed(1));
    expect(maxDiff(same, x)).toBeLessThan(1e-5);
    expect(maxDiff(adjustHue(x, tf.zeros([4]) as tf.Tensor1D), x)).toBeLessThan(1e-5);
    expect(maxDiff(adjustHue(x, tf.ones([4]) as tf.Tensor1D), x)).toBeLessThan(1e-4); // a full turn
  });

  it('flips with probability p and converts to grayscale with probability p', () => {
    const x = images(400, 2);
    const flipped = augment(x, { horizontalFlip: 0.5 }, Rng.fromSeed(4));
    const mirrored = tf.reverse(x, 2);
    const isFlipped = tf.tidy(() => tf.less(tf.max(tf.abs(tf.sub(flipped, mirrored)), [1, 2, 3]), 1e-5).dataSync());
    const flipRate = Array.from(isFlipped).reduce((s, v) => s + v, 0) / 400;
    expect(Math.abs(flipRate - 0.5)).toBeLessThan(0.08);
    const gray = augment(x, { grayscale: 0.2 }, Rng.fromSeed(5));
    const isGray = tf.tidy(() => {
      const [r, g] = tf.split(gray, 3, 3);
      return tf.less(tf.max(tf.abs(tf.sub(r, g)), [1, 2, 3]), 1e-6).dataSync();
    });
    const grayRate = Array.from(isGray).reduce((s, v) => s + v, 0) / 400;
    expect(Math.abs(grayRate - 0.2)).toBeLessThan(0.06);
  });

  it('draws crop boxes inside the image with the area fraction of torchvision', () => {
    const rng = Rng.fromSeed(6);
    const fractions: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const [top, left, h, w] = cropBox(32, 32, [0.08, 1], [3 / 4, 4 / 3], rng);
      expect(top + h).toBeLessThanOrEqual(32);
      expect(left + w).toBeLessThanOrEqual(32);
      fractions.push((h * w) / 1024);
    }
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    // the area fraction is uniform in [0.08, 1] before rounding and rejection: mean ≈ 0.54, slightly lower after
    // rejection of too-wide boxes
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.58);
    expect(Math.min(...fractions)).toBeLessThan(0.1);
    expect(Math.max(...fractions)).toBeGreaterThan(0.95);
  });

  it('colour jitter factors stay in their ranges (brightness scales the image by [0.6, 1.4])', () => {
    const x = tf.fill([200, 4, 4, 3], 0.5) as tf.Tensor4D;
    const out = augment(
      x,
      { colorJitter: { brightness: 0.4, contrast: 0, saturation: 0, hue: 0, p: 1 } },
      Rng.fromSeed(7),
    );
    const values = tf.tidy(() => tf.mean(out, [1, 2, 3]).dataSync());
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(0.3 - 1e-6);
      expect(v).toBeLessThanOrEqual(0.7 + 1e-6);
    }
    expect(Math.max(...values) - Math.min(...values)).toBeGreaterThan(0.3);
  });
});
