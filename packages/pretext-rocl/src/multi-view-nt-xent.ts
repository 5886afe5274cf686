import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, l2Normalize } from '@moco-robust/core';

/**
 * Per-anchor NT-Xent over V ≥ 2 views of the same N instances (`views[v]` [N, d]), RoCL's
 * multi-positive form: every row of `[views[0]; …; views[V−1]]` is an anchor whose positives are the
 * other V − 1 views of its instance and whose softmax runs over all V·N − 1 other rows (cosine
 * similarities / `temperature`); returns [V·N], each anchor's sum of −log p over its positives. For
 * V = 2 this is SimCLR's NT-Xent (`ntXent` of `@moco-robust/core`). RoCL's loss is its mean with
 * three views: t(x), t'(x), t(x)^adv (Kim et al., NeurIPS 2020, T 0.5).
 */
export function multiViewNtXent(views: tf.Tensor2D[], temperature: number): tf.Tensor1D {
  if (!Array.isArray(views) || views.length < 2)
    throw new InvalidArgumentError({
      argument: 'views',
      expected: 'at least two embeddings [N, d] of the same instances',
      received: views,
    });
  const [n, d] = views[0].shape;
  views.forEach((v, i) => {
    if (v.rank !== 2 || v.shape[0] !== n || v.shape[1] !== d)
      throw new InvalidArgumentError({
        argument: `views[${i}]`,
        expected: `embeddings [${n}, ${d}]`,
        received: v.shape,
      });
  });
  if (!(temperature > 0))
    throw new InvalidArgumentError({ argument: 'temperature', expected: 'a positive number', received: temperature });
  const total = views.length * n;
  return tf.tidy(() => {
    const z = l2Normalize(tf.concat(views, 0) as tf.Tensor2D); // [V·N, d]
    const self = tf.eye(total); // [V·N, V·N]
    const similarity = tf.add(tf.div(tf.matMul(z, z, false, true), temperature), tf.mul(self, -1e9));
    const logProbabilities = tf.logSoftmax(similarity); // [V·N, V·N]
    const positives = tf.sub(tf.tile(tf.eye(n), [views.length, views.length]), self); // same instance, other view
    return tf.neg(tf.sum(tf.mul(logProbabilities, positives), 1)) as tf.Tensor1D; // [V·N]
  });
}

/**
 * Instance-discrimination accuracy of two views `z1`, `z2` (`[N, d]`): the fraction of the 2N anchors
 * whose most cosine-similar other row of `[z1; z2]` is their own other view (chance 1/(2N − 1)), as
 * a scalar tensor.
 */
export function instanceAccuracy(z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar {
  const n = z1.shape[0];
  return tf.tidy(() => {
    const z = l2Normalize(tf.concat([z1, z2], 0) as tf.Tensor2D); // [2N, d]
    const similarity = tf.add(tf.matMul(z, z, false, true), tf.mul(tf.eye(2 * n), -1e9)); // [2N, 2N]
    const positive = tf.concat([tf.range(n, 2 * n, 1, 'int32'), tf.range(0, n, 1, 'int32')]); // [2N]
    return tf.mean(tf.cast(tf.equal(tf.argMax(similarity, 1), positive), 'float32')) as tf.Scalar;
  });
}
