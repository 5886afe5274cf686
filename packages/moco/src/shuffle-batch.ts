import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, toRng, type Rng } from '@moco-robust/core';

/**
 * Runs `forward` on the batch `x` permuted by a seeded random permutation and returns its output un-permuted (row i
 * is the output for `x[i]`): MoCo's shuffle-BN on one device. With split batch-norm (statistics per group of
 * consecutive examples) the key of image i is normalised with a group of other images than its query, so the two
 * branches cannot match a query to its key through shared batch statistics (docs/protocol.md, "Shuffle-BN").
 * `forward` must map `[N, …]` to `[N, …]` row by row apart from batch-norm; `rng` picks the permutation.
 */
export function shuffledForward<T extends tf.Tensor>(
  forward: (x: tf.Tensor4D) => T,
  x: tf.Tensor4D,
  rng: Rng | number,
): T {
  const n = x.shape[0];
  const { permutation, inverse } = batchPermutation(n, toRng(rng));
  return tf.tidy(() => {
    const order = tf.tensor1d(permutation, 'int32');
    const back = tf.tensor1d(inverse, 'int32');
    const output = forward(tf.gather(x, order) as tf.Tensor4D);
    if (output.shape[0] !== n)
      throw new InvalidArgumentError({
        argument: 'forward',
        expected: `an output with the batch's ${n} rows`,
        received: `shape [${output.shape.join(', ')}]`,
      });
    return tf.gather(output, back) as T;
  });
}

/** A seeded permutation of `0..n-1` and its inverse (`inverse[permutation[j]] === j`). */
export function batchPermutation(n: number, rng: Rng): { permutation: Int32Array; inverse: Int32Array } {
  const permutation = rng.permutation(n);
  const inverse = new Int32Array(n);
  for (let j = 0; j < n; j++) inverse[permutation[j]] = j;
  return { permutation, inverse };
}
