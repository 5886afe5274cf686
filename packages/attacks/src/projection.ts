import * as tf from '@tensorflow/tfjs-core';

/** Sum over all but the first axis, kept as [N, 1, 1, 1] for broadcasting. */
function perExampleL2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.sqrt(tf.sum(tf.square(x), [1, 2, 3], true)) as tf.Tensor4D; // [N, 1, 1, 1]
}

/** Projects `xAdv` onto the ε-ball around `x` (L∞ box or L2 ball) and onto the [0, 1] pixel range. */
export function project(xAdv: tf.Tensor4D, x: tf.Tensor4D, epsilon: number, norm: 'linf' | 'l2'): tf.Tensor4D {
  return tf.tidy(() => {
    let delta = tf.sub(xAdv, x) as tf.Tensor4D;
    if (norm === 'linf') {
      delta = tf.clipByValue(delta, -epsilon, epsilon);
    } else {
      const scale = tf.minimum(1, tf.div(epsilon, tf.maximum(perExampleL2(delta), 1e-12))); // [N, 1, 1, 1]
      delta = tf.mul(delta, scale);
    }
    return tf.clipByValue(tf.add(x, delta), 0, 1) as tf.Tensor4D;
  });
}

/** The ascent direction for one step: `sign(g)` (L∞) or `g / ‖g‖₂` per example (L2). */
export function ascentDirection(gradient: tf.Tensor4D, norm: 'linf' | 'l2'): tf.Tensor4D {
  return tf.tidy(
    () =>
      (norm === 'linf'
        ? tf.sign(gradient)
        : tf.div(gradient, tf.maximum(perExampleL2(gradient), 1e-12))) as tf.Tensor4D,
  );
}

/** A uniform random point of the ε-ball around `x` (L∞: uniform box; L2: uniform ball), clipped to [0, 1]. */
export function randomStart(x: tf.Tensor4D, epsilon: number, norm: 'linf' | 'l2', seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    if (norm === 'linf')
      return tf.clipByValue(
        tf.add(x, tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', seed)),
        0,
        1,
      ) as tf.Tensor4D;
    const [n, h, w, c] = x.shape;
    const direction = tf.randomNormal(x.shape, 0, 1, 'float32', seed) as tf.Tensor4D;
    const unit = tf.div(direction, tf.maximum(perExampleL2(direction), 1e-12));
    const radius = tf.mul(epsilon, tf.pow(tf.randomUniform([n, 1, 1, 1], 0, 1, 'float32', seed + 1), 1 / (h * w * c)));
    return tf.clipByValue(tf.add(x, tf.mul(unit, radius)), 0, 1) as tf.Tensor4D;
  });
}
