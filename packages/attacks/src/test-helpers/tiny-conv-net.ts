// Test support (not exported): tiny models for the attack tests.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** A tiny convnet images [N, 8, 8, 3] → logits [N, outputs], seeded. */
export function tinyConvNet(outputs = 10, seed = 1): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotNormal({ seed: seed * 100 + s });
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [8, 8, 3],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(1),
    }),
  );
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: outputs, kernelInitializer: init(2) }));
  return model;
}

/** Random images [N, 8, 8, 3] in [0, 1] and labels. */
export function randomBatch(n: number, seed = 3): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => ({
    x: tf.randomUniform([n, 8, 8, 3], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.cast(tf.randomUniform([n], 0, 10, 'float32', seed + 1), 'int32') as tf.Tensor1D,
  }));
}

/** Random L2-normalised rows [n, d]. */
export function randomUnitRows(n: number, d: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const r = tf.randomNormal([n, d], 0, 1, 'float32', seed);
    return tf.div(r, tf.norm(r, 'euclidean', 1, true)) as tf.Tensor2D;
  });
}
