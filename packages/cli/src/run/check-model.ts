import type * as tfl from '@tensorflow/tfjs-layers';
import { CheckpointError, InvalidArgumentError } from '@moco-robust/core';

/**
 * Checks a loaded `--from` / `--model` against the data it will see, before anything is written: the input must be
 * CIFAR-10 images `[batch, 32, 32, 3]`; a classifier needs an output per class the labels use (CIFAR-10: 10); every
 * weight must be finite (a model with NaN or Infinity weights is a damaged model file, exit 5). `argument` is the
 * flag the message names; `source` the path the model came from.
 */
export function checkModel(
  model: tfl.LayersModel,
  options: { role: 'encoder' | 'classifier'; source: string; argument: string; maxLabel?: number },
): void {
  const shape = model.inputs[0]?.shape ?? [];
  if (model.inputs.length !== 1 || shape.length !== 4 || shape.slice(1).join(',') !== '32,32,3')
    throw new InvalidArgumentError({
      argument: options.argument,
      expected: `${an(options.role)} of CIFAR-10 images (input [batch, 32, 32, 3]) at ${options.source}`,
      received: `input [${shape.map((d) => d ?? 'batch').join(', ')}]`,
    });
  if (options.role === 'classifier') {
    const output = model.outputs[0]?.shape ?? [];
    const classes = output.at(-1);
    const needed = Math.max(10, (options.maxLabel ?? 0) + 1);
    if (model.outputs.length !== 1 || output.length !== 2 || typeof classes !== 'number' || classes < needed)
      throw new InvalidArgumentError({
        argument: options.argument,
        expected: `a classifier with ${needed} outputs (logits of the classes 0–${needed - 1}) at ${options.source}`,
        received: `output [${output.map((d) => d ?? 'batch').join(', ')}]`,
      });
  }
  for (const weight of model.weights) {
    const values = weight.read().dataSync(); // once per model at start, not in a loop
    for (let i = 0; i < values.length; i++)
      if (!Number.isFinite(values[i]))
        throw new CheckpointError({
          path: options.source,
          message:
            `${an(options.role)} with non-finite weights: ${weight.name} holds ${values[i]} at index ${i} ` +
            `(expected finite numbers; was it saved from a run whose loss turned NaN?)`,
        });
  }
}

const an = (role: string) => (role === 'encoder' ? 'an encoder' : 'a classifier');
