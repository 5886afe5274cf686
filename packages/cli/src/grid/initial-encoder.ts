import type * as tfl from '@tensorflow/tfjs-layers';
import { createResnetEncoder } from '@moco-robust/models';
import type { RunConfig } from '../presets';

/**
 * The randomly initialised encoder of the `none` control (adversarial fine-tuning from scratch): the architecture,
 * seed and split batch-norm groups a pre-training run of the same config starts from, so `none` differs from a
 * pre-trained cell only in the missing pre-training.
 */
export function initialEncoder(config: Pick<RunConfig, 'model' | 'seed'>): tfl.LayersModel {
  return createResnetEncoder({
    architecture: config.model.architecture as never,
    rng: config.seed,
    batchNormGroups: config.model.batchNormGroups,
  }).model;
}
