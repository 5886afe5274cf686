import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, type Rng } from '@moco-robust/core';
import { releaseLayerOutputs, stageOfLayer } from '@moco-robust/models';

/** A classifier built on a pre-trained encoder: the composed model (images → logits) and its parts. */
export interface Classifier {
  /** images [N, H, W, 3] in [0, 1] → logits [N, classes]; saved in the plain tfjs layers format. */
  model: tfl.LayersModel;
  encoder: tfl.LayersModel;
  head: tfl.LayersModel;
}

/**
 * Puts a new fully connected head (trained from scratch, PyTorch's default `nn.Linear` init,
 * seeded) on a pre-trained encoder. The composed model shares the encoder's weights.
 */
export function composeClassifier(encoder: tfl.LayersModel, numClasses: number, rng: Rng): Classifier {
  if (!(Number.isInteger(numClasses) && numClasses > 1))
    throw new InvalidArgumentError({ argument: 'numClasses', expected: 'an integer > 1', received: numClasses });
  const featureShape = encoder?.outputs?.[0]?.shape;
  if (!(Array.isArray(featureShape) && featureShape.length === 2 && (featureShape[1] ?? 0) > 0))
    throw new InvalidArgumentError({
      argument: 'encoder',
      expected: 'a tfjs LayersModel images → features [N, d]',
      received: featureShape ? `a model with output [${featureShape.map((d) => d ?? 'N').join(', ')}]` : encoder,
    });
  const featureDim = featureShape[1] as number;
  const bound = 1 / Math.sqrt(featureDim);
  const head = tfl.sequential({
    name: 'classifier_head',
    layers: [
      tfl.layers.dense({
        inputShape: [featureDim],
        units: numClasses,
        name: 'classifier',
        kernelInitializer: tfl.initializers.randomUniform({
          minval: -bound,
          maxval: bound,
          seed: rng.nextUint32() % 2 ** 31,
        }),
        biasInitializer: tfl.initializers.randomUniform({
          minval: -bound,
          maxval: bound,
          seed: rng.nextUint32() % 2 ** 31,
        }),
      }),
    ],
  });
  const logits = head.apply(encoder.outputs[0]) as tfl.SymbolicTensor;
  const model = releaseLayerOutputs(tfl.model({ inputs: encoder.inputs, outputs: logits, name: 'classifier_model' }));
  return { model, encoder, head };
}

/**
 * Trainable variables for a fine-tuning mode: `linear` → the head only; `partial` → the head and
 * every encoder layer not in stages 0 … frozenStages − 1; `full` → everything.
 */
export function finetuneVariables(
  classifier: Classifier,
  mode: 'linear' | 'partial' | 'full',
  frozenStages: number,
): tf.Variable[] {
  const headVariables = classifier.head.trainableWeights.map((w) => w.read() as tf.Variable);
  if (mode === 'linear') return headVariables;
  const encoderLayers = classifier.encoder.layers.filter((layer) => {
    if (mode === 'full') return true;
    const stage = stageOfLayer(layer.name);
    return stage === undefined || stage >= frozenStages;
  });
  return [...encoderLayers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable)), ...headVariables];
}
