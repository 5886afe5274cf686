import * as tf from '@tensorflow/tfjs-core';

/** What the targeted attacks (APGD-T, FAB-T) read from the clean images before choosing their targets. */
export interface CleanRanking {
  /** Per example, the classes by decreasing clean logit: `ranks[i][1]` is the first target. */
  ranks: number[][];
  /** Number of classes (the model's output width). */
  classes: number;
  /** 1 where the clean image is classified correctly (only those are attacked). */
  correct: Uint8Array;
}

/** Ranks the classes of every clean image by logit and marks the correctly classified ones (two host reads). */
export function cleanRanking(forward: (x: tf.Tensor4D) => tf.Tensor, x: tf.Tensor4D, y: tf.Tensor1D): CleanRanking {
  const { order, correct } = tf.tidy(() => {
    const logits = forward(x) as tf.Tensor2D; // [N, C]
    return { order: tf.topk(logits, logits.shape[1]).indices, correct: tf.equal(tf.argMax(logits, 1), y) };
  });
  const ranking = {
    ranks: order.arraySync() as number[][],
    classes: order.shape[1]!,
    correct: Uint8Array.from(correct.dataSync()),
  };
  tf.dispose([order, correct]);
  return ranking;
}
