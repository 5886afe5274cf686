import { InvalidArgumentError } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import { resolveAttackOptions } from './attack-options';
import {
  ATTACK_DEFAULTS,
  DEFAULT_EPSILON,
  PAPER_STEP_SIZE,
  STANDARD_STEP_SIZE,
  validateEpsilon,
  validateRandomStart,
  validateRestarts,
  validateStepSize,
  validateSteps,
} from './attack-settings';

describe('attack settings vocabulary', () => {
  it('names the protocol constants once, with the values the protocols set', () => {
    expect(DEFAULT_EPSILON).toBe(8 / 255);
    expect(STANDARD_STEP_SIZE).toBe(2 / 255);
    expect(PAPER_STEP_SIZE).toBe(8 / 255);
    expect(ATTACK_DEFAULTS).toEqual({
      epsilon: 8 / 255,
      stepSize: 2 / 255,
      steps: 10,
      randomStart: true,
      restarts: 1,
      norm: 'linf',
    });
  });

  it('resolveAttackOptions applies exactly ATTACK_DEFAULTS', () => {
    const { rng, earlyStop, ...resolved } = resolveAttackOptions({});
    expect(resolved).toEqual(ATTACK_DEFAULTS);
    expect(earlyStop).toBeUndefined();
    expect(rng).toBeDefined();
  });

  it('returns valid values unchanged and names the caller’s path in errors', () => {
    expect(validateEpsilon(0.5)).toBe(0.5);
    expect(validateEpsilon(3, { norm: 'l2' })).toBe(3);
    expect(validateStepSize(0)).toBe(0);
    expect(validateSteps(0)).toBe(0);
    expect(validateRestarts(2)).toBe(2);
    expect(validateRandomStart(false)).toBe(false);
    expect(() => validateEpsilon(8, { argument: 'pretrain.attack.epsilon' })).toThrow(
      /Invalid argument 'pretrain\.attack\.epsilon': expected a number in \[0, 1\].*got number 8.*Divide by 255/,
    );
    expect(() => validateEpsilon(101, { norm: 'l2' })).toThrow(/'epsilon': expected a number in \[0, 100\]/);
    expect(() => validateEpsilon('8/255')).toThrow(InvalidArgumentError);
    expect(() => validateStepSize(-1, { argument: 'attack.stepSize' })).toThrow(/'attack\.stepSize'/);
    expect(() => validateStepSize(Number.NaN)).toThrow(/'stepSize'/);
    expect(() => validateSteps(0, { argument: 'attack.steps', minimum: 1 })).toThrow(
      /'attack\.steps': expected an integer ≥ 1/,
    );
    expect(() => validateSteps(2.5)).toThrow(/'steps': expected an integer ≥ 0/);
    expect(() => validateRestarts(0)).toThrow(/'restarts': expected an integer ≥ 1/);
    expect(() => validateRandomStart(1)).toThrow(/'randomStart': expected a boolean/);
  });
});
