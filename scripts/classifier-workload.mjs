// The ResNet classifier, images, labels, variables and optimiser the native-kernel benchmark scripts
// (profile-kernels.mjs, convolution-ab.mjs) measure: the same seeds as the bench's workloads.
import * as tf from '@tensorflow/tfjs-core';
import { Sgd } from '@moco-robust/core';
import { classifierHead, composeModels, createResnetEncoder, trainableVariables } from '@moco-robust/models';

/** A seeded `architecture` classifier with `batch` random images and labels; `dispose()` frees all of it. */
export function classifierWorkload(architecture, batch) {
  const encoder = createResnetEncoder({ architecture, rng: 1 });
  const classifier = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 2 }));
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 4);
  const y = tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([batch], 0, 10, 'float32', 5)), 'int32'));
  const variables = trainableVariables(classifier);
  const sgd = new Sgd({ learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  const dispose = () => {
    sgd.dispose();
    classifier.dispose();
    tf.dispose([x, y]);
  };
  return { classifier, x, y, variables, sgd, dispose };
}
