import * as tf from '@tensorflow/tfjs-core';
import { gatherRows } from './rows';

/** What the targeted attacks (APGD-T, FAB-T) read from the clean images before choosing their targets. */
export interface CleanRanking {
  /** Per example, the classes by decreasing clean logit: `ranks[i][1]` is the first target. */
  ranks: number[][];
  /** Number of classes (the model's output width). */
  classes: number;
  /** 1 where the clean image is classified correctly (only those are attacked). */
  correct: Uint8Array;
  /** The true labels, read once. */
  labels: ArrayLike<number>;
}

/** Ranks the classes of every clean image by logit and marks the correctly classified ones (three host reads). */
export function cleanRanking(forward: (x: tf.Tensor4D) => tf.Tensor, x: tf.Tensor4D, y: tf.Tensor1D): CleanRanking {
  const { order, correct } = tf.tidy(() => {
    const logits = forward(x) as tf.Tensor2D; // [N, C]
    return { order: tf.topk(logits, logits.shape[1]).indices, correct: tf.equal(tf.argMax(logits, 1), y) };
  });
  const ranking = {
    ranks: order.arraySync() as number[][],
    classes: order.shape[1]!,
    correct: Uint8Array.from(correct.dataSync()),
    labels: y.dataSync(),
  };
  tf.dispose([order, correct]);
  return ranking;
}

/** The examples `indices` with their true labels and their `rank`-th class as the target, for one targeted run. */
export function targetBatch(
  ranking: CleanRanking,
  x: tf.Tensor4D,
  indices: number[],
  rank: number,
): { xs: tf.Tensor4D; ys: tf.Tensor1D; target: tf.Tensor1D } {
  return {
    xs: gatherRows(x, indices),
    ys: tf.tensor1d(
      indices.map((i) => ranking.labels[i]!),
      'int32',
    ),
    target: tf.tensor1d(
      indices.map((i) => ranking.ranks[i]![rank]!),
      'int32',
    ),
  };
}
