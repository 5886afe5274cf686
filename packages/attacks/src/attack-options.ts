import { InvalidArgumentError, toRng, type Rng } from '@moco-robust/core';
import {
  ATTACK_DEFAULTS,
  validateEpsilon,
  validateRandomStart,
  validateRestarts,
  validateStepSize,
  validateSteps,
} from './attack-settings';

/** Options shared by every attack; ε and step sizes are in [0, 1] pixel units. */
export interface AttackOptions {
  /** Radius of the perturbation ball; default 8/255. */
  epsilon?: number;
  /** Size of each ascent step; default 2/255 (PGD) — FGSM uses ε. */
  stepSize?: number;
  /** Number of ascent steps; default 10. */
  steps?: number;
  /** Start from a uniform random point of the ε-ball; default true for PGD. */
  randomStart?: boolean;
  /** Independent random restarts; the worst case per example is kept. Default 1. */
  restarts?: number;
  /** Threat model: `linf` (sign steps, box projection) or `l2` (normalised steps, ball projection). Default `linf`. */
  norm?: 'linf' | 'l2';
  /**
   * Per-example success test `(xAdv) => bool [N]`; examples that succeed stop moving (and, when all
   * have, the attack stops — one scalar host read per step). Default: none.
   */
  earlyStop?: (xAdv: import('@tensorflow/tfjs-core').Tensor4D) => import('@tensorflow/tfjs-core').Tensor;
  /** Seed or generator for the random start. Default seed 0. */
  rng?: number | Rng;
}

/** {@link AttackOptions} with defaults applied and checked. */
export interface ResolvedAttackOptions {
  epsilon: number;
  stepSize: number;
  steps: number;
  randomStart: boolean;
  restarts: number;
  norm: 'linf' | 'l2';
  earlyStop: AttackOptions['earlyStop'];
  rng: Rng;
}

/** Applies {@link ATTACK_DEFAULTS} and validates the options (`validateEpsilon`, …), naming the offending one. */
export function resolveAttackOptions(
  options: AttackOptions,
  defaults: Partial<ResolvedAttackOptions> = {},
): ResolvedAttackOptions {
  const norm = options.norm ?? defaults.norm ?? ATTACK_DEFAULTS.norm;
  if (norm !== 'linf' && norm !== 'l2')
    throw new InvalidArgumentError({ argument: 'norm', expected: "'linf' or 'l2'", received: norm });
  const epsilon = validateEpsilon(options.epsilon ?? defaults.epsilon ?? ATTACK_DEFAULTS.epsilon, { norm });
  const stepSize = validateStepSize(options.stepSize ?? defaults.stepSize ?? ATTACK_DEFAULTS.stepSize, { norm });
  const steps = validateSteps(options.steps ?? defaults.steps ?? ATTACK_DEFAULTS.steps);
  const restarts = validateRestarts(options.restarts ?? defaults.restarts ?? ATTACK_DEFAULTS.restarts);
  const randomStart = validateRandomStart(options.randomStart ?? defaults.randomStart ?? ATTACK_DEFAULTS.randomStart);
  if (options.earlyStop !== undefined && typeof options.earlyStop !== 'function') {
    throw new InvalidArgumentError({
      argument: 'earlyStop',
      expected: 'a function (xAdv) => bool tensor [N]',
      received: options.earlyStop,
    });
  }
  return {
    epsilon,
    stepSize,
    steps,
    restarts,
    norm,
    randomStart,
    earlyStop: options.earlyStop,
    rng: toRng(options.rng ?? defaults.rng, 0),
  };
}
