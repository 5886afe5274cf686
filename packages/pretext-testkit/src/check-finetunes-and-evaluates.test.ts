import * as tf from '@tensorflow/tfjs-core';
import { createResnetEncoder } from '@moco-robust/models';
import { cifarSampleDir, useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkFinetunesAndEvaluates } from './check-finetunes-and-evaluates';
import { loadSample } from './load-sample';

const dir = cifarSampleDir();

beforeAll(async () => {
  await useFastestBackend();
});

describe.skipIf(!dir)('checkFinetunesAndEvaluates (real CIFAR-10 sample)', () => {
  it(
    'fine-tunes an encoder with a new head and evaluates it clean ' +
      'and under PGD, leaving only the encoder and the head’s 2 weights',
    async () => {
      const sample = loadSample({ dir: dir!, train: 128, test: 64 })!;
      const before = tf.memory().numTensors;
      const encoder = createResnetEncoder({ architecture: 'resnet6-w8', rng: 1 });
      const report = await checkFinetunesAndEvaluates({
        encoder: encoder.model,
        train: sample.train,
        test: sample.test,
      });
      expect(report.total).toBe(64);
      expect(report.pgd).toBeLessThanOrEqual(report.clean);
      // the encoder's weights and the head's kernel and bias (still referenced by the composed classifier)
      expect(tf.memory().numTensors - before).toBe(encoder.model.weights.length + 2);
      encoder.model.dispose();
    },
  );
});
