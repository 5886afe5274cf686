import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '@moco-robust/core';

/**
 * Stage of a ResNet layer by its name: `stem_…` → 0, `stage<k>_…` → k, anything else (normalisation, pool,
 * heads) →
 * undefined.
 */
export function stageOfLayer(name: string): number | undefined {
  if (name.startsWith('stem_')) return 0;
  const match = /^stage(\d+)_/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Every layer of `model`, nested models (an encoder composed with a head) opened up, depth first. */
export function flattenLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.flatMap((layer) => (layer instanceof tfl.LayersModel ? flattenLayers(layer) : [layer]));
}

/**
 * Freezes the first `stages` stages of a ResNet (the stem counts as stage 0, so `1` freezes the stem,
 * `2` the stem and stage 1, …) for partial fine-tuning, and makes every later layer trainable again
 * (the frozen normalisation layer stays frozen). Works on an encoder or an encoder composed with a
 * head. Freezing only removes weights from `trainableWeights`: batch-norm still follows the
 * `training` flag of each call, as in PyTorch. Returns the names of the frozen layers.
 */
export function freezeStages(model: tfl.LayersModel, stages: number): string[] {
  if (!(Number.isInteger(stages) && stages >= 0))
    throw new InvalidArgumentError({
      argument: 'stages',
      expected: 'a non-negative integer (stem = stage 0)',
      received: stages,
    });
  const frozen: string[] = [];
  for (const layer of flattenLayers(model)) {
    const stage = stageOfLayer(layer.name);
    if (stage === undefined) continue;
    layer.trainable = stage >= stages;
    if (!layer.trainable) frozen.push(layer.name);
  }
  return frozen;
}
