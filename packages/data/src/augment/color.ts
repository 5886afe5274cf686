import * as tf from '@tensorflow/tfjs-core';

/** ITU-R 601-2 luma (torchvision's `rgb_to_grayscale`): 0.299 R + 0.587 G + 0.114 B, [N, H, W, 1]. */
export function grayscale(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), 3, true) as tf.Tensor4D);
}

/** Brightness: `x·factor`, clipped to [0, 1]; `factor` [N] per image. */
export function adjustBrightness(x: tf.Tensor4D, factor: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.mul(x, tf.reshape(factor, [-1, 1, 1, 1])), 0, 1) as tf.Tensor4D);
}

/** Contrast: blend with the mean of the image's grayscale (torchvision), clipped. */
export function adjustContrast(x: tf.Tensor4D, factor: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const f = tf.reshape(factor, [-1, 1, 1, 1]);
    const mean = tf.mean(grayscale(x), [1, 2, 3], true); // [N, 1, 1, 1]
    return tf.clipByValue(tf.add(tf.mul(x, f), tf.mul(mean, tf.sub(1, f))), 0, 1) as tf.Tensor4D;
  });
}

/** Saturation: blend with the grayscale image (torchvision), clipped. */
export function adjustSaturation(x: tf.Tensor4D, factor: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const f = tf.reshape(factor, [-1, 1, 1, 1]);
    return tf.clipByValue(tf.add(tf.mul(x, f), tf.mul(grayscale(x), tf.sub(1, f))), 0, 1) as tf.Tensor4D;
  });
}

/** Hue: rotate the HSV hue by `shift` [N] (in turns, torchvision's `hue_factor` ∈ [−0.5, 0.5]). */
export function adjustHue(x: tf.Tensor4D, shift: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const [r, g, b] = tf.split(x, 3, 3);
    const maxc = tf.maximum(tf.maximum(r, g), b);
    const minc = tf.minimum(tf.minimum(r, g), b);
    const delta = tf.sub(maxc, minc);
    const safeDelta = tf.where(tf.equal(delta, 0), tf.onesLike(delta), delta);
    const saturation = tf.where(
      tf.equal(maxc, 0),
      tf.zerosLike(maxc),
      tf.div(delta, tf.where(tf.equal(maxc, 0), tf.onesLike(maxc), maxc)),
    );
    const rc = tf.div(tf.sub(maxc, r), safeDelta);
    const gc = tf.div(tf.sub(maxc, g), safeDelta);
    const bc = tf.div(tf.sub(maxc, b), safeDelta);
    let hue = tf.where(
      tf.equal(r, maxc),
      tf.sub(bc, gc),
      tf.where(tf.equal(g, maxc), tf.add(2, tf.sub(rc, bc)), tf.add(4, tf.sub(gc, rc))),
    );
    hue = tf.where(tf.equal(delta, 0), tf.zerosLike(hue), hue);
    hue = tf.add(tf.div(hue, 6), tf.reshape(shift, [-1, 1, 1, 1]));
    hue = tf.sub(hue, tf.floor(hue)); // mod 1
    // hsv → rgb: channel n ∈ {5, 3, 1}: v − v·s·clip(min(k, 4 − k), 0, 1), k = (n + 6h) mod 6
    const value = maxc;
    const channel = (n: number) => {
      const k6 = tf.add(n, tf.mul(hue, 6));
      const k = tf.sub(k6, tf.mul(tf.floor(tf.div(k6, 6)), 6));
      return tf.sub(value, tf.mul(tf.mul(value, saturation), tf.clipByValue(tf.minimum(k, tf.sub(4, k)), 0, 1)));
    };
    return tf.concat([channel(5), channel(3), channel(1)], 3) as tf.Tensor4D;
  });
}
