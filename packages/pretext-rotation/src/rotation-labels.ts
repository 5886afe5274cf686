import { InvalidArgumentError, type Rng } from '@moco-robust/core';
import { ROTATION_CLASSES } from './rotate-images';

/**
 * Rotation labels for a batch of `count` images, balanced: every class appears ⌊count/4⌋ or
 * ⌈count/4⌉ times (exactly count/4 when 4 divides the batch), in a seeded random order (a shuffle of
 * `0, 1, 2, 3, 0, 1, …`). Chen et al. 2020 draw them the same way.
 */
export function balancedRotationLabels(count: number, rng: Rng): Int32Array {
  if (!(Number.isInteger(count) && count >= 0))
    throw new InvalidArgumentError({ argument: 'count', expected: 'a non-negative integer', received: count });
  const labels = new Int32Array(count);
  // the remainder classes are drawn too, so no class is favoured when 4 does not divide the batch
  const offset = rng.int(ROTATION_CLASSES);
  for (let i = 0; i < count; i++) labels[i] = (i + offset) % ROTATION_CLASSES;
  rng.shuffle(labels);
  return labels;
}
