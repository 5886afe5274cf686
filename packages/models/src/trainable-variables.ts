import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * The trainable weights of `model` as the `tf.Variable`s that `tf.variableGrads` and optimizers take, in the model's
 * order (frozen layers excluded).
 */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}

/**
 * Number of trainable parameters, as PyTorch counts them: no batch-norm moving statistics, no frozen layers (the
 * normalisation).
 */
export function countTrainableParameters(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce(
    (sum, weight) => sum + weight.shape.reduce((a: number, b) => a * (b ?? 1), 1),
    0,
  );
}
