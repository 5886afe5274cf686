import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, toRng, type Rng } from '@moco-robust/core';
import { linearInit } from './initializers';
import { releaseLayerOutputs } from './release-layer-outputs';

/** Options of {@link projectionHead}. */
export interface ProjectionHeadOptions {
  /** `linear` (MoCo-v1: features → dim) or `mlp` (MoCo-v2: Dense(hidden) → ReLU → Dense(dim)). */
  kind: 'linear' | 'mlp';
  /** Encoder feature width. */
  inputDim: number;
  /** Embedding width; default 128. */
  outputDim?: number;
  /** MLP hidden width; default `inputDim` (MoCo-v2). */
  hiddenDim?: number;
  rng?: number | Rng;
  name?: string;
}

/**
 * MoCo's projection head as a tfjs `LayersModel` features [N, inputDim] → [N, outputDim], PyTorch `nn.Linear` init,
 * seeded.
 */
export function projectionHead(options: ProjectionHeadOptions): tfl.LayersModel {
  const { kind, inputDim } = options;
  if (kind !== 'linear' && kind !== 'mlp')
    throw new InvalidArgumentError({ argument: 'kind', expected: "'linear' or 'mlp'", received: kind });
  if (!(Number.isInteger(inputDim) && inputDim > 0))
    throw new InvalidArgumentError({ argument: 'inputDim', expected: 'a positive integer', received: inputDim });
  const outputDim = options.outputDim ?? 128;
  const hidden = options.hiddenDim ?? inputDim;
  const rng = toRng(options.rng);
  const model = tfl.sequential({ name: options.name ?? `projection_${kind}` });
  if (kind === 'mlp') {
    model.add(
      tfl.layers.dense({
        inputShape: [inputDim],
        units: hidden,
        activation: 'relu',
        name: 'projection_hidden',
        ...linearInit(inputDim, rng),
      }),
    );
    model.add(tfl.layers.dense({ units: outputDim, name: 'projection_out', ...linearInit(hidden, rng) }));
  } else {
    model.add(
      tfl.layers.dense({
        inputShape: [inputDim],
        units: outputDim,
        name: 'projection_out',
        ...linearInit(inputDim, rng),
      }),
    );
  }
  return model;
}

/** A classifier head features [N, inputDim] → logits [N, numClasses] (PyTorch `nn.Linear` init, seeded). */
export function classifierHead(options: {
  inputDim: number;
  numClasses?: number;
  rng?: number | Rng;
  name?: string;
}): tfl.LayersModel {
  const numClasses = options.numClasses ?? 10;
  if (!(Number.isInteger(numClasses) && numClasses > 1))
    throw new InvalidArgumentError({ argument: 'numClasses', expected: 'an integer > 1', received: numClasses });
  const model = tfl.sequential({ name: options.name ?? 'classifier_head' });
  model.add(
    tfl.layers.dense({
      inputShape: [options.inputDim],
      units: numClasses,
      name: 'classifier',
      ...linearInit(options.inputDim, toRng(options.rng)),
    }),
  );
  return model;
}

/** Encoder and head composed into one model (weights shared), e.g. images → logits, saved as plain tfjs. */
export function composeModels(encoder: tfl.LayersModel, head: tfl.LayersModel, name = 'composed'): tfl.LayersModel {
  const output = head.apply(encoder.outputs[0]) as tfl.SymbolicTensor;
  return releaseLayerOutputs(tfl.model({ inputs: encoder.inputs, outputs: output, name }));
}
