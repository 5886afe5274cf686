import { InvalidArgumentError } from '@moco-robust/core';

import {
  ATTACK_DEFAULTS,
  DEFAULT_EPSILON,
  PAPER_FGSM_EPSILON,
  PAPER_STEP_SIZE,
  STANDARD_STEP_SIZE,
} from './attack-constants';

export { ATTACK_DEFAULTS, DEFAULT_EPSILON, PAPER_FGSM_EPSILON, PAPER_STEP_SIZE, STANDARD_STEP_SIZE };

/** Where a setting is checked: the name errors give it (e.g. `attack.epsilon`) and the threat model. */
export interface SettingCheck {
  /** The setting's path in the caller's config, named in the error; default the attack option's own name. */
  argument?: string;
  /** Threat model: bounds ε and the step at 1 for `linf` (the image range), 100 for `l2`. Default `linf`. */
  norm?: 'linf' | 'l2';
}

/** Largest ε (and step) of a threat model, in pixel units: L∞ 1 (the image range), L2 100. */
function maximum(norm: 'linf' | 'l2'): number {
  return norm === 'linf' ? 1 : 100;
}

/** Checks an ε: a number in [0, 1] (L∞) or [0, 100] (L2), pixel units. Returns it; the error names `argument`. */
export function validateEpsilon(value: unknown, { argument = 'epsilon', norm = 'linf' }: SettingCheck = {}): number {
  const max = maximum(norm);
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= max)) {
    throw new InvalidArgumentError({
      argument,
      expected: `a number in [0, ${max}] (pixel units: 8/255 ≈ 0.0314)`,
      received: value,
      hint:
        typeof value === 'number' && value > 1 && norm === 'linf'
          ? 'Did you pass ε in 0–255 units? Divide by 255.'
          : undefined,
    });
  }
  return value;
}

/** Checks a step size α: a number in [0, 1] (L∞) or [0, 100] (L2), pixel units. Returns it. */
export function validateStepSize(value: unknown, { argument = 'stepSize', norm = 'linf' }: SettingCheck = {}): number {
  const max = maximum(norm);
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= max)) {
    throw new InvalidArgumentError({
      argument,
      expected: `a number in [0, ${max}] (pixel units: 2/255 ≈ 0.0078)`,
      received: value,
    });
  }
  return value;
}

/**
 * Checks a number of attack steps: an integer ≥ `minimum` (default 0: a raw attack may take none; training configs,
 * whose attack must move, ask for 1). Returns it.
 */
export function validateSteps(
  value: unknown,
  { argument = 'steps', minimum = 0 }: Pick<SettingCheck, 'argument'> & { minimum?: number } = {},
): number {
  if (!(Number.isInteger(value) && (value as number) >= minimum))
    throw new InvalidArgumentError({ argument, expected: `an integer ≥ ${minimum}`, received: value });
  return value as number;
}

/** Checks a number of random restarts: an integer ≥ 1. Returns it. */
export function validateRestarts(
  value: unknown,
  { argument = 'restarts' }: Pick<SettingCheck, 'argument'> = {},
): number {
  if (!(Number.isInteger(value) && (value as number) >= 1))
    throw new InvalidArgumentError({ argument, expected: 'an integer ≥ 1', received: value });
  return value as number;
}

/** Checks a random-start switch: a boolean. Returns it. */
export function validateRandomStart(
  value: unknown,
  { argument = 'randomStart' }: Pick<SettingCheck, 'argument'> = {},
): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError({ argument, expected: 'a boolean', received: value });
  return value;
}
