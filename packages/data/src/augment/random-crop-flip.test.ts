import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@moco-robust/core';
import { useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomCropFlip } from './random-crop-flip';

describe('randomCropFlip', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('returns exact windows of the zero-padded image, flipped for about half of the images', () => {
    const padding = 2;
    const x = tf.randomUniform([64, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const out = randomCropFlip(x, Rng.fromSeed(2), padding).arraySync();
    const padded = tf.pad(x, [
      [0, 0],
      [padding, padding],
      [padding, padding],
      [0, 0],
    ]) as tf.Tensor4D;
    const candidates = [padded, tf.reverse(padded, 2) as tf.Tensor4D].map((t) => t.arraySync());
    let flips = 0;
    for (let n = 0; n < 64; n++) {
      let match: 'plain' | 'flipped' | undefined;
      for (const [k, source] of candidates.entries()) {
        for (let top = 0; top <= 2 * padding && !match; top++) {
          for (let left = 0; left <= 2 * padding && !match; left++) {
            const same = out[n].every((row, i) =>
              row.every((pixel, j) => pixel.every((v, c) => Math.abs(v - source[n][top + i][left + j][c]) < 1e-6)),
            );
            if (same) match = k === 0 ? 'plain' : 'flipped';
          }
        }
      }
      expect(match).toBeDefined();
      if (match === 'flipped') flips++;
    }
    expect(flips).toBeGreaterThan(20);
    expect(flips).toBeLessThan(44);
  });
});
