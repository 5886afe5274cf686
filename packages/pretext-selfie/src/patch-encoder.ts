import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, type ModelLike } from '@moco-robust/core';
import { stageOfLayer } from '@moco-robust/models';

/** The backbone's early stages as Selfie's patch network. */
export interface PatchEncoder {
  /**
   * The encoder's layers from its input to the end of stage `stages` (shared weights: training it trains the encoder).
   */
  model: tfl.LayersModel;
  /** Channels of that stage's output: the width of a patch feature. */
  featureDim: number;
  /** Name of the encoder layer the patch network ends at. */
  lastLayer: string;
}

/**
 * Selfie's patch network P (Trinh et al. 2019; Chen et al. 2020 use the first three stages of their
 * ResNet-50): the encoder's own normalisation, stem and stages 1…`stages`, ending at the last layer
 * named `stem_…` / `stage<k>_…` with k ≤ `stages` (the models package's names, {@link stageOfLayer}),
 * as a tfjs `LayersModel` sharing the encoder's layers. Convolutions do not depend on the spatial
 * size, so it runs on 8×8 patches although the encoder was built for 32×32 images. An encoder with
 * fewer stages contributes all of them.
 */
export function patchEncoder(encoder: ModelLike, stages: number): PatchEncoder {
  if (!(Number.isInteger(stages) && stages >= 0))
    throw new InvalidArgumentError({
      argument: 'patchStages',
      expected: 'a non-negative integer (0: the stem only)',
      received: stages,
    });
  const model = encoder as unknown as tfl.LayersModel;
  if (!Array.isArray(model?.layers) || !Array.isArray(model.inputs)) {
    throw new InvalidArgumentError({
      argument: 'encoder.model',
      expected: 'a tfjs LayersModel (its early stages become the patch network)',
      received: encoder,
    });
  }
  // in a functional model's layer order, a stage's output layer comes after every layer it depends on
  let last: tfl.layers.Layer | undefined;
  for (const layer of model.layers) {
    const stage = stageOfLayer(layer.name);
    if (stage !== undefined && stage <= stages) last = layer;
  }
  if (!last) {
    throw new InvalidArgumentError({
      argument: 'encoder.model',
      expected:
        "a ResNet encoder whose layers are named 'stem_…' and " +
        "'stage<k>_…' (createResnetEncoder of @moco-robust/models)",
      received: model.layers
        .map((l) => l.name)
        .slice(0, 8)
        .join(', '),
    });
  }
  const output = last.output as tfl.SymbolicTensor;
  const featureDim = output.shape[output.shape.length - 1];
  if (output.shape.length !== 4 || typeof featureDim !== 'number') {
    throw new InvalidArgumentError({
      argument: 'encoder.model',
      expected: `a feature map [N, h, w, C] at layer '${last.name}'`,
      received: output.shape,
    });
  }
  return {
    model: tfl.model({ inputs: model.inputs, outputs: output, name: `${model.name}_patches` }),
    featureDim,
    lastLayer: last.name,
  };
}

/** Patch features [M, C]: the patch network's feature maps of `patches` [M, p, p, 3], averaged over space. */
export function encodePatches(patches: PatchEncoder, images: tf.Tensor4D, training: boolean): tf.Tensor2D {
  return tf.tidy(() => tf.mean(patches.model.apply(images, { training }) as tf.Tensor4D, [1, 2]) as tf.Tensor2D);
}
