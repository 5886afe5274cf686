import * as tf from '@tensorflow/tfjs-core';

/**
 * MoCo's InfoNCE logits: for L2-normalised queries `q` [N, d], their positive keys `k` [N, d] and the
 * queue of negatives `queue` [K, d], returns `[q·k, q·queue] / temperature` as [N, 1 + K]
 * (column 0 is the positive). `q` and `k` are normalised here; the queue is assumed normalised.
 */
export function infoNceLogits(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D, temperature: number): tf.Tensor2D {
  return tf.tidy(() => {
    const qn = l2Normalize(q); // [N, d]
    const kn = l2Normalize(k); // [N, d]
    const positive = tf.sum(tf.mul(qn, kn), 1, true); // [N, 1]
    const negative = tf.matMul(qn, queue, false, true); // [N, K]
    return tf.div(tf.concat([positive, negative], 1), temperature) as tf.Tensor2D; // [N, 1 + K]
  });
}

/**
 * Per-example MoCo InfoNCE loss (He et al., CVPR 2020, eq. 1): cross-entropy of
 * `infoNceLogits` with the positive at index 0; returns [N]. `temperature` default in MoCo-v1 0.07,
 * the CIFAR demo uses 0.1 (v1) / 0.2 (v2).
 */
export function infoNce(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D, temperature: number): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = infoNceLogits(q, k, queue, temperature); // [N, 1 + K]
    const logProbabilities = tf.logSoftmax(logits); // [N, 1 + K]
    return tf.neg(tf.reshape(tf.slice(logProbabilities, [0, 0], [-1, 1]), [-1])) as tf.Tensor1D; // [N]
  });
}

/**
 * Per-anchor SimCLR NT-Xent loss (Chen et al., ICML 2020) of two views `z1`, `z2` (`[N, d]`): every row of
 * `[z1; z2]` is an anchor whose positive is its other view and whose negatives are the other 2N − 2
 * rows; returns [2N] (the first N for `z1`'s anchors). RoCL uses temperature 0.5.
 */
export function ntXent(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number): tf.Tensor1D {
  return tf.tidy(() => {
    const n = z1.shape[0];
    const z = l2Normalize(tf.concat([z1, z2], 0)); // [2N, d]
    const similarity = tf.div(tf.matMul(z, z, false, true), temperature); // [2N, 2N]
    const selfMask = tf.mul(tf.eye(2 * n), -1e9); // [2N, 2N]
    const logProbabilities = tf.logSoftmax(tf.add(similarity, selfMask)); // [2N, 2N]
    const positiveIndex = tf.concat([tf.range(n, 2 * n, 1, 'int32'), tf.range(0, n, 1, 'int32')]); // [2N]
    const positive = tf.sum(tf.mul(logProbabilities, tf.oneHot(positiveIndex, 2 * n)), 1); // [2N]
    return tf.neg(positive) as tf.Tensor1D;
  });
}

/** Row-wise L2 normalisation of `x` [N, d] (as `F.normalize(x, dim=1)`, eps 1e-12). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D);
}
