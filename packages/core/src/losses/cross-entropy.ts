import * as tf from '@tensorflow/tfjs-core';

/**
 * Per-example softmax cross-entropy of `logits` [N, C] against integer `labels` [N]
 * (PyTorch's `F.cross_entropy(..., reduction='none')`); returns [N]. Numerically stable (log-softmax).
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const logProbabilities = tf.logSoftmax(logits); // [N, C]
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]); // [N, C]
    return tf.neg(tf.sum(tf.mul(logProbabilities, oneHot), 1)) as tf.Tensor1D; // [N]
  });
}

/** Fraction of rows of `logits` [N, C] whose arg-max equals `labels` [N], as a scalar tensor. */
export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(
    () => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'float32')) as tf.Scalar,
  );
}
