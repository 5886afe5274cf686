import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, l2Normalize } from '@moco-robust/core';

/** Options of {@link knnAccuracy}. */
export interface KnnOptions {
  /** Neighbours; default 200 (the MoCo CIFAR demo's monitor). */
  k?: number;
  /** Temperature of the similarity weights `exp(sim / T)`; default 0.1. */
  temperature?: number;
  /** Number of classes; default 10. */
  numClasses?: number;
  /** Query rows per chunk, bounding memory; default 256. */
  chunkSize?: number;
}

/**
 * Weighted k-nearest-neighbour classification on L2-normalised features (Wu et al., 2018; the
 * MoCo demo's monitor): each of the k most cosine-similar bank features votes for its label with
 * weight `exp(sim / T)`. `bank` [M, d], `bankLabels` int32 [M], `queries` [N, d] → predicted int32 [N].
 */
export function knnPredict(
  bank: tf.Tensor2D,
  bankLabels: tf.Tensor1D,
  queries: tf.Tensor2D,
  options: KnnOptions = {},
): tf.Tensor1D {
  const temperature = options.temperature ?? 0.1;
  const numClasses = options.numClasses ?? 10;
  const k = Math.min(options.k ?? 200, bank.shape[0]);
  const chunk = options.chunkSize ?? 256;
  if (bank.shape[1] !== queries.shape[1]) {
    throw new InvalidArgumentError({
      argument: 'queries',
      expected: `features of width ${bank.shape[1]} like the bank`,
      received: queries,
    });
  }
  return tf.tidy(() => {
    const bankNormalised = l2Normalize(bank); // [M, d]
    const predictions: tf.Tensor1D[] = [];
    for (let start = 0; start < queries.shape[0]; start += chunk) {
      const size = Math.min(chunk, queries.shape[0] - start);
      const q = l2Normalize(tf.slice(queries, [start, 0], [size, -1]) as tf.Tensor2D); // [n, d]
      const similarity = tf.matMul(q, bankNormalised, false, true); // [n, M]
      const { values, indices } = tf.topk(similarity, k); // [n, k]
      // exp(sim / T) rescaled per row by exp(-max / T): the same vote, without float32 overflow at small T
      const weights = tf.exp(tf.div(tf.sub(values, tf.max(values, 1, true)), temperature)); // [n, k]
      const neighbourLabels = tf.gather(bankLabels, indices); // [n, k]
      const votes = tf.sum(tf.mul(tf.oneHot(neighbourLabels, numClasses), tf.expandDims(weights, 2)), 1); // [n, C]
      predictions.push(tf.cast(tf.argMax(votes, 1), 'int32') as tf.Tensor1D);
    }
    return tf.concat(predictions) as tf.Tensor1D;
  });
}

/**
 * kNN accuracy (fraction correct) of `queries` with labels `queryLabels`, as a number (one host read): weighted
 * k-nearest-neighbour classification on L2-normalised features, the MoCo demo's monitor (`knnPredict` above).
 */
export function knnAccuracy(
  bank: tf.Tensor2D,
  bankLabels: tf.Tensor1D,
  queries: tf.Tensor2D,
  queryLabels: tf.Tensor1D,
  options: KnnOptions = {},
): number {
  const correct = tf.tidy(() =>
    tf.mean(
      tf.cast(tf.equal(knnPredict(bank, bankLabels, queries, options), tf.cast(queryLabels, 'int32')), 'float32'),
    ),
  );
  const value = correct.dataSync()[0];
  correct.dispose();
  return value;
}
