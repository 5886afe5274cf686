import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@moco-robust/core';
import { useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyWeights } from './copy-weights';
import { freezeStages, stageOfLayer } from './freeze-stages';
import { classifierHead, composeModels } from './heads';
import { createResnetEncoder } from './resnet';
import { countTrainableParameters, trainableVariables } from './trainable-variables';

describe('freezing stages, copying weights, trainable variables (cpu)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('names layers by stage and freezes the first k stages (stem = 0) of an encoder composed with a head', () => {
    expect([
      stageOfLayer('stem_conv'),
      stageOfLayer('stage3_block1_conv1'),
      stageOfLayer('normalize'),
      stageOfLayer('classifier'),
    ]).toEqual([0, 3, undefined, undefined]);
    const encoder = createResnetEncoder({ architecture: 'resnet8-w16', rng: 1 });
    const model = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 2 }));
    const all = countTrainableParameters(model);
    const frozen = freezeStages(model, 2);
    expect(frozen).toContain('stem_conv');
    expect(frozen).toContain('stage1_block1_conv2');
    expect(frozen.some((name) => name.startsWith('stage2'))).toBe(false);
    const names = model.trainableWeights.map((w) => w.originalName);
    expect(names.some((n) => n.startsWith('stem_') || n.startsWith('stage1_'))).toBe(false);
    expect(names.some((n) => n.startsWith('stage2_'))).toBe(true);
    expect(names.some((n) => n.startsWith('classifier'))).toBe(true);
    expect(trainableVariables(model).length).toBe(model.trainableWeights.length);
    expect(countTrainableParameters(model)).toBeLessThan(all);
    freezeStages(model, 0);
    expect(countTrainableParameters(model)).toBe(all);
    expect(encoder.model.getLayer('normalize').trainable).toBe(false);
    expect(() => freezeStages(model, -1)).toThrow(InvalidArgumentError);
  });

  it('copies every weight (moving statistics included) between models of one architecture and refuses another', () => {
    const source = createResnetEncoder({ architecture: 'resnet6-w8', rng: 3 });
    const target = createResnetEncoder({ architecture: 'resnet6-w8', rng: 4 });
    tf.tidy(
      () => source.model.apply(tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 5), { training: true }) as tf.Tensor,
    ); // moves the statistics
    const before = tf.memory().numTensors;
    copyWeights(source.model, target.model);
    expect(tf.memory().numTensors).toBe(before);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 6);
    expect(Array.from((target.model.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((source.model.predict(x) as tf.Tensor).dataSync()),
    );
    // a later update of the source does not reach the copy
    const snapshot = Array.from((target.model.predict(x) as tf.Tensor).dataSync());
    tf.tidy(
      () => source.model.apply(tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 7), { training: true }) as tf.Tensor,
    );
    expect(Array.from((target.model.predict(x) as tf.Tensor).dataSync())).toEqual(snapshot);
    const other = createResnetEncoder({ architecture: 'resnet8-w16', rng: 8 });
    expect(() => copyWeights(source.model, other.model)).toThrow(InvalidArgumentError);
  });
});
