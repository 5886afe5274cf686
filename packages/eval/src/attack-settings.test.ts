import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  ATTACK_DEFAULTS,
  DEFAULT_EPSILON,
  PAPER_FGSM_EPSILON,
  PAPER_STEP_SIZE,
  STANDARD_STEP_SIZE,
} from '@moco-robust/attacks';
import { InvalidArgumentError } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRobustness, PAPER_ROBUSTNESS, STANDARD_ROBUSTNESS } from './evaluate-robustness';
import { PAPER_FINETUNE, resolveFinetuneConfig, STANDARD_FINETUNE } from './finetune-config';

describe('fine-tuning attack settings', () => {
  it("take their defaults from the attacks library's constants (values unchanged)", () => {
    expect(PAPER_FINETUNE.attack).toEqual({ epsilon: DEFAULT_EPSILON, stepSize: PAPER_STEP_SIZE, steps: 20 });
    expect(STANDARD_FINETUNE.attack).toEqual({ epsilon: DEFAULT_EPSILON, stepSize: STANDARD_STEP_SIZE, steps: 10 });
    expect(PAPER_FINETUNE.attack).toEqual({ epsilon: 8 / 255, stepSize: 8 / 255, steps: 20 });
    expect(STANDARD_FINETUNE.attack).toEqual({ epsilon: 8 / 255, stepSize: 2 / 255, steps: 10 });
    expect(resolveFinetuneConfig()).toEqual(STANDARD_FINETUNE);
  });

  it('are checked by the attacks library validators, named by their path here', () => {
    expect(() => resolveFinetuneConfig({ attack: { epsilon: 8 } })).toThrow(InvalidArgumentError);
    expect(() => resolveFinetuneConfig({ attack: { epsilon: 8 } })).toThrow(
      /'attack\.epsilon': expected a number in \[0, 1\].*Divide by 255/,
    );
    expect(() => resolveFinetuneConfig({ attack: { stepSize: 1.5 } })).toThrow(/'attack\.stepSize'/);
    expect(() => resolveFinetuneConfig({ attack: { steps: 0 } })).toThrow(/'attack\.steps': expected an integer ≥ 1/);
  });
});

describe('robustness settings', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it("take their defaults from the attacks library's constants (values unchanged)", () => {
    expect(STANDARD_ROBUSTNESS).toMatchObject({
      fgsmEpsilon: DEFAULT_EPSILON,
      pgdEpsilon: DEFAULT_EPSILON,
      pgdStepSize: ATTACK_DEFAULTS.stepSize,
      pgdRestarts: ATTACK_DEFAULTS.restarts,
    });
    expect(STANDARD_ROBUSTNESS).toMatchObject({ fgsmEpsilon: 8 / 255, pgdEpsilon: 8 / 255, pgdStepSize: 2 / 255 });
    expect(PAPER_ROBUSTNESS.fgsmEpsilon).toBe(PAPER_FGSM_EPSILON);
    expect(PAPER_ROBUSTNESS.fgsmEpsilon).toBe(10 / 255);
  });

  it('are checked by the attacks library validators before the first batch, named `settings.<key>`', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: [32, 32, 3] }), tfl.layers.dense({ units: 10 })],
    });
    const test = { images: new Uint8Array(2 * 32 * 32 * 3).fill(120), labels: Int32Array.from([0, 1]), count: 2 };
    const before = tf.memory().numTensors;
    expect(() => evaluateRobustness(model, test, { settings: { pgdEpsilon: 8 } })).toThrow(
      /'settings\.pgdEpsilon': expected a number in \[0, 1\].*Divide by 255/,
    );
    expect(() => evaluateRobustness(model, test, { settings: { pgdRestarts: 0 } })).toThrow(/'settings\.pgdRestarts'/);
    expect(() => evaluateRobustness(model, test, { settings: { fgsmEpsilon: -1 } })).toThrow(/'settings\.fgsmEpsilon'/);
    // a setting of an attack that does not run is not checked (as before)
    const clean = evaluateRobustness(model, test, { attacks: ['clean'], settings: { fgsmEpsilon: -1 } });
    expect(clean.clean.total).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
