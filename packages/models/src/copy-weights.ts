import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '@moco-robust/core';

/**
 * Copies every weight of `source` (trainable ones and batch-norm moving statistics) into `target`, a
 * model of the same architecture — e.g. to initialise MoCo's momentum encoder from the query
 * encoder. Checks count and shapes; later updates of either model do not reach the other, and no
 * tensor is leaked.
 */
export function copyWeights(source: tfl.LayersModel, target: tfl.LayersModel): void {
  const from = source.weights;
  const to = target.weights;
  if (from.length !== to.length) {
    throw new InvalidArgumentError({
      argument: 'target',
      expected: `a model of the same architecture (${from.length} weights)`,
      received: `${to.length} weights`,
    });
  }
  from.forEach((weight, i) => {
    if (weight.shape.join(',') !== to[i].shape.join(',')) {
      throw new InvalidArgumentError({
        argument: 'target',
        expected: `weight ${i} (${weight.originalName}) of shape [${weight.shape}]`,
        received: `${to[i].originalName} of shape [${to[i].shape}]`,
      });
    }
  });
  target.setWeights(from.map((weight) => weight.read()));
}
