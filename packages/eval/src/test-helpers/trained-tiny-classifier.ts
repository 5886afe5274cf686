// Test support (not exported): a tiny classifier trained briefly on the real CIFAR sample, so reports and corruption
// numbers are not a constant predictor's.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readCifarSample, tinyEncoderModel } from '@moco-robust/testing';
import { finetune } from '../finetune';

/**
 * A tiny conv classifier after 4 epochs of standard training on 512 real training images (a few seconds on the native
 * backend), after one inference pass.
 */
export async function trainedTinyClassifier(seed = 5): Promise<tfl.LayersModel> {
  const train = readCifarSample('data_batch_1.bin', 512)!;
  const { classifier } = await finetune({
    encoder: tinyEncoderModel(seed),
    train,
    config: {
      seed,
      epochs: 4,
      batchSize: 32,
      validationSize: 0,
      augment: false,
      loss: 'standard',
      mode: 'full',
      optimizer: { learningRate: 0.05, schedule: 'constant' },
      logEvery: 100,
    },
  });
  // a first inference pass keeps the model's weight transforms for the next ones (as any model's first pass does), so
  // that a test's tensor count around an evaluation sees only what the evaluation itself holds
  tf.tidy(() => classifier.model.predict(tf.zeros([1, 32, 32, 3])));
  return classifier.model;
}
