import { ATTACK_DEFAULTS, PAPER_STEP_SIZE } from '@moco-robust/attacks';
import { InvalidArgumentError } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import { CPU_PRETRAIN, DEFAULT_PRETRAIN_CONFIG, PAPER_PRETRAIN, resolvePretrainConfig } from './pretrain-config';

describe('pre-training presets', () => {
  it(
    'the paper preset is the paper text (MoCo-PGD-10, ε = step = 8/255, ' +
      'batch 128, lr 0.06, wd 5e-4, 200 epochs) and resolves to itself',
    () => {
      expect(PAPER_PRETRAIN).toMatchObject({
        epochs: 200,
        batchSize: 128,
        optimizer: { learningRate: 0.06, momentum: 0.9, weightDecay: 5e-4, schedule: 'cosine' },
        attack: { kind: 'pgd', epsilon: 8 / 255, stepSize: 8 / 255, steps: 10 },
      });
      expect(resolvePretrainConfig(PAPER_PRETRAIN)).toEqual(PAPER_PRETRAIN);
      expect(DEFAULT_PRETRAIN_CONFIG.attack.stepSize).toBe(2 / 255); // the community's step
      expect(resolvePretrainConfig({ ...CPU_PRETRAIN, epochs: 1 })).toMatchObject({
        epochs: 1,
        batchSize: 64,
        attack: { steps: 3 },
      });
    },
  );

  it('names the bad field', () => {
    expect(() => resolvePretrainConfig({ attack: { steps: -1 } })).toThrow(InvalidArgumentError);
    expect(() => resolvePretrainConfig({ attack: { steps: -1 } })).toThrow(/attack\.steps/);
    // the attacks library's validators, told moco's path
    expect(() => resolvePretrainConfig({ attack: { epsilon: 8 } })).toThrow(
      /'attack\.epsilon': expected a number in \[0, 1\].*Divide by 255/,
    );
    expect(() => resolvePretrainConfig({ attack: { stepSize: -1 } })).toThrow(/'attack\.stepSize'/);
    expect(() => resolvePretrainConfig({ attack: { steps: 0 } })).toThrow(/'attack\.steps': expected an integer ≥ 1/);
  });

  it('takes its attack defaults from the attacks library', () => {
    expect(DEFAULT_PRETRAIN_CONFIG.attack).toMatchObject({
      epsilon: ATTACK_DEFAULTS.epsilon,
      stepSize: ATTACK_DEFAULTS.stepSize,
      steps: ATTACK_DEFAULTS.steps,
    });
    expect(PAPER_PRETRAIN.attack.stepSize).toBe(PAPER_STEP_SIZE);
  });
});
