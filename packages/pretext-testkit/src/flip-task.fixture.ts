import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, type JsonValue, type PretextTaskV1 } from '@moco-robust/core';
import { classifierHead } from '@moco-robust/models';

/**
 * A minimal correct PretextTaskV1 for the kit's own tests: was the image flipped left–right? (a
 * 2-way linear head on the encoder's features, labels drawn from the step's rng, combine mean).
 */
export function flipTask(): PretextTaskV1 {
  return {
    specificationVersion: 'v1',
    name: 'flip',
    combine: 'mean',
    createHeads: (encoder, rng) => ({
      classifier: classifierHead({
        inputDim: encoder.featureDim,
        numClasses: 2,
        rng: rng.fork('classifier'),
        name: 'flip_head',
      }),
    }),
    makeBatch(images, rng) {
      const labels = Int32Array.from({ length: images.shape[0] }, () => rng.nextUint32() & 1);
      return tf.tidy(() => {
        const flipped = tf.reshape(tf.tensor1d(labels, 'float32'), [-1, 1, 1, 1]); // [N, 1, 1, 1]
        const inputs = tf.add(
          tf.mul(tf.reverse(images, 2), flipped),
          tf.mul(images, tf.sub(1, flipped)),
        ) as tf.Tensor4D;
        return { inputs, targets: { labels: tf.tensor1d(labels, 'int32') } };
      });
    },
    loss: (context, inputs, targets) =>
      tf.tidy(() => {
        // [N, featureDim]
        const features = context.encoder.model.apply(inputs, { training: context.training }) as tf.Tensor2D;
        return crossEntropy(
          context.heads.classifier.apply(features, { training: context.training }) as tf.Tensor2D,
          targets.labels as tf.Tensor1D,
        );
      }),
    state: (): JsonValue => ({ task: 'flip' }),
    loadState: () => undefined,
  };
}
