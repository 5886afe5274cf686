import * as tf from '@tensorflow/tfjs-core';

/** What {@link batchNormInTraining} reports of the batch it normalised, for the moving statistics. */
export interface BatchStatistics {
  /** Per-group means, [G, 1, C]. */
  mean: tf.Tensor3D;
  /** Per-group biased variances, [G, 1, C]. */
  variance: tf.Tensor3D;
}

/**
 * Training-mode batch-norm of `x` (channels last, a batch divisible by `groups`) as one operation
 * with its own gradient: y = (x − μ_g)·γ/√(σ²_g + ε) + β, with μ_g, σ²_g the mean and biased
 * variance of group g — `groups` equal slices of consecutive examples — over its values.
 *
 * Built from tfjs's `moments` and `batchNorm`, the same function keeps two more full-size tensors for
 * the backward pass (`x − μ` for `square`, and again for the multiply by γ/σ) and backpropagates
 * through a dozen kernels; here the backward pass keeps only `x` and the [G, 1, C] statistics, and its
 * gradient is the closed form ∂L/∂x = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)), x̂ = (x − μ)/σ, in six
 * full-size kernels; ∂L/∂γ = Σ dy·x̂ and ∂L/∂β = Σ dy are sums over groups. `statistics` receives the
 * batch's statistics once, during the forward pass (for the moving averages; it runs with the tape
 * off, so nothing it computes is differentiated), and must not keep the tensors it is given. The
 * grouping reshapes happen inside the operation: on the tape, a reshape would keep its input (tfjs's
 * `Reshape` gradient saves it for its shape), and so the batch-norm's output. Works on every backend.
 */
export function batchNormInTraining<T extends tf.Tensor>(
  x: T,
  groups: number,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  statistics: (batch: BatchStatistics) => void,
): T {
  const grouped = (t: tf.Tensor) => tf.reshape(t, [groups, -1, t.shape[t.rank - 1]!]) as tf.Tensor3D; // [G, M, C]
  const op = tf.customGrad((...args: unknown[]) => {
    const [original, scale, offset, save] = args as [T, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const input = grouped(original);
    const mean = tf.mean(input, 1, true) as tf.Tensor3D; // [G, 1, C]
    const centred = tf.sub(input, mean);
    const variance = tf.mean(tf.square(centred), 1, true) as tf.Tensor3D;
    const inverseStd = tf.rsqrt(tf.add(variance, tf.scalar(epsilon))); // [G, 1, C]
    statistics({ mean, variance });
    save([original, mean, inverseStd, scale]);
    return {
      value: tf.reshape(tf.add(tf.mul(centred, tf.mul(inverseStd, scale)), offset), original.shape) as T,
      gradFunc: (gradient: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, inv, g] = saved.map((t, i) => (i === 0 ? grouped(t) : t));
        const dy = grouped(gradient);
        const count = xs.shape[1]!;
        const c = tf.sub(xs, mu); // x − μ, recomputed rather than kept
        const sumDy = tf.sum(dy, 1, true); // [G, 1, C]
        const sumDyCentred = tf.sum(tf.mul(dy, c), 1, true); // Σ dy·(x − μ), [G, 1, C]
        const factor = tf.mul(inv, g); // γ/σ
        // ∂L/∂x = γ/σ·dy − γ/σ·Σdy/M − (x − μ)·γ/σ³·Σdy(x − μ)/M
        const perCentred = tf.div(tf.mul(tf.mul(factor, tf.square(inv)), sumDyCentred), count);
        const perChannel = tf.div(tf.mul(factor, sumDy), count);
        const dx = tf.sub(tf.sub(tf.mul(dy, factor), tf.mul(c, perCentred)), perChannel);
        const dGamma = tf.reshape(tf.sum(tf.mul(sumDyCentred, inv), [0, 1]), g.shape);
        const dBeta = tf.reshape(tf.sum(sumDy, [0, 1]), g.shape);
        return [tf.reshape(dx, gradient.shape), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as T;
}
