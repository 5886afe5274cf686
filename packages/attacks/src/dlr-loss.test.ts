import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // registers tfjs's gradients
import { InvalidArgumentError } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dlrLoss, targetedDlrLoss } from './dlr-loss';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const logits = () => tf.tensor2d([3, 1, 2, 0, 0, 5, 1, 2], [2, 4]);
const labels = () => tf.tensor1d([0, 0], 'int32');
const read = (make: () => tf.Tensor) => {
  const t = make();
  const values = Array.from(t.dataSync());
  t.dispose();
  return values;
};

describe('DLR loss', () => {
  it('matches hand-computed values (untargeted and targeted)', () => {
    const before = tf.memory().numTensors;
    const [z, y, t] = [logits(), labels(), tf.tensor1d([3, 2], 'int32')];
    // row 0: y is on top, best other 2, π3 = 1 → −(3 − 2)/(3 − 1); row 1: −(0 − 5)/(5 − 1)
    expect(read(() => dlrLoss(z, y))).toEqual([-0.5, 1.25]);
    // row 0: −(3 − 0)/(3 − (1 + 0)/2); row 1: −(0 − 1)/(5 − (1 + 0)/2)
    const targeted = read(() => targetedDlrLoss(z, y, t));
    expect(targeted[0]).toBeCloseTo(-1.2, 6);
    expect(targeted[1]).toBeCloseTo(1 / 4.5, 6);
    tf.dispose([z, y, t]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is invariant to shifting and positive scaling of the logits', () => {
    const values = tf.tidy(() => {
      const z = logits();
      return [dlrLoss(z, labels()), dlrLoss(tf.add(tf.mul(z, 7), 3) as tf.Tensor2D, labels())].map((v) =>
        Array.from(v.dataSync()),
      );
    });
    for (let i = 0; i < 2; i++) expect(values[1][i]).toBeCloseTo(values[0][i], 5);
  });

  it('has the analytic gradient a finite difference gives, without leaking tensors', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const z = tf.randomNormal([5, 10], 0, 2, 'float32', 7) as tf.Tensor2D;
      const y = tf.tensor1d([0, 3, 9, 4, 4], 'int32');
      const target = tf.tensor1d([1, 2, 8, 0, 5], 'int32');
      for (const loss of [(l: tf.Tensor2D) => dlrLoss(l, y), (l: tf.Tensor2D) => targetedDlrLoss(l, y, target)]) {
        const gradient = tf
          .grad((l: tf.Tensor) => tf.sum(loss(l as tf.Tensor2D)))(z)
          .arraySync() as number[][];
        const base = z.arraySync() as number[][];
        const h = 1e-3;
        for (const [row, col] of [
          [0, 0],
          [1, 3],
          [2, 8],
          [3, 5],
          [4, 4],
          [4, 9],
        ]) {
          const shifted = (d: number) => {
            const copy = base.map((r) => r.slice());
            copy[row][col] += d;
            return tf.sum(loss(tf.tensor2d(copy))).dataSync()[0];
          };
          expect(gradient[row][col]).toBeCloseTo((shifted(h) - shifted(-h)) / (2 * h), 2);
        }
      }
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the argument when there are too few classes', () => {
    const z = tf.zeros([2, 3]) as tf.Tensor2D;
    const y = labels();
    expect(() => targetedDlrLoss(z, y, y)).toThrow(InvalidArgumentError);
    expect(() => dlrLoss(tf.zeros([2, 2]) as tf.Tensor2D, y)).toThrow(/logits/);
    tf.dispose([z, y]);
  });
});
