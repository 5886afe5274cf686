import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readCifarSample, useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRobustness } from './evaluate-robustness';
import { robustnessMarkdown } from './reports/robustness-markdown';
import { trainedTinyClassifier } from './test-helpers/trained-tiny-classifier';

const test = readCifarSample('test_batch.bin', 32);

describe.skipIf(!test)('evaluateRobustness with AutoAttack (tiny trained classifier)', () => {
  let model: tfl.LayersModel;
  beforeAll(async () => {
    await useFastestBackend();
    model = await trainedTinyClassifier();
  });

  it('reports AutoAttack accuracy and its cascade, and flags gradient masking that fools PGD', () => {
    const before = tf.memory().numTensors;
    const settings = { pgdEpsilon: 2 / 255, pgdSteps: 10, autoAttackVersion: 'cpu' as const, seed: 1 };
    const plain = evaluateRobustness(model, test!, { attacks: ['clean', 'pgd', 'autoattack'], settings });
    const auto = plain.autoAttack!;
    expect(auto.attack).toBe('AutoAttack cpu (L∞, ε=2/255)');
    expect(auto.cascade.map((s) => s.attack)).toEqual(['apgd-ce', 'apgd-t']);
    expect(auto.cascade[0].attacked).toBe(plain.clean.correct);
    expect(auto.correct).toBe(plain.clean.correct - auto.cascade.reduce((sum, s) => sum + s.broke, 0));
    expect(auto.accuracy).toBeLessThanOrEqual(plain.pgd!.accuracy);
    expect(robustnessMarkdown(plain)).toMatch(/AutoAttack cascade .*apgd-ce broke \d+ of \d+ → apgd-t broke/);
    // logits × 1e4 saturate the softmax: cross-entropy gradients vanish, PGD stalls, DLR (scale-free) does not
    const masked = (x: tf.Tensor4D) => tf.mul(model.apply(x) as tf.Tensor2D, 1e4) as tf.Tensor2D;
    const fooled = evaluateRobustness(masked, test!, { attacks: ['clean', 'pgd', 'autoattack'], settings });
    expect(fooled.pgd!.accuracy - fooled.autoAttack!.accuracy).toBeGreaterThan(0.05);
    expect(fooled.warnings.join('\n')).toMatch(/AutoAttack .* below PGD .*gradient masking/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
