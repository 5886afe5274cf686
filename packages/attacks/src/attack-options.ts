import { InvalidArgumentError, toRng, type Rng } from '@moco-robust/core';

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

/** Applies defaults and validates attack options, naming the offending option in the error. */
export function resolveAttackOptions(
  options: AttackOptions,
  defaults: Partial<ResolvedAttackOptions> = {},
): ResolvedAttackOptions {
  const norm = options.norm ?? defaults.norm ?? 'linf';
  if (norm !== 'linf' && norm !== 'l2')
    throw new InvalidArgumentError({ argument: 'norm', expected: "'linf' or 'l2'", received: norm });
  const epsilon = options.epsilon ?? defaults.epsilon ?? 8 / 255;
  const maxEpsilon = norm === 'linf' ? 1 : 100;
  if (!(Number.isFinite(epsilon) && epsilon >= 0 && epsilon <= maxEpsilon)) {
    throw new InvalidArgumentError({
      argument: 'epsilon',
      expected: `a number in [0, ${maxEpsilon}] (pixel units: 8/255 ≈ 0.0314)`,
      received: epsilon,
      hint: epsilon > 1 && norm === 'linf' ? 'Did you pass ε in 0–255 units? Divide by 255.' : undefined,
    });
  }
  const stepSize = options.stepSize ?? defaults.stepSize ?? 2 / 255;
  if (!(Number.isFinite(stepSize) && stepSize >= 0))
    throw new InvalidArgumentError({
      argument: 'stepSize',
      expected: 'a finite number ≥ 0 (pixel units)',
      received: stepSize,
    });
  const steps = options.steps ?? defaults.steps ?? 10;
  if (!(Number.isInteger(steps) && steps >= 0))
    throw new InvalidArgumentError({ argument: 'steps', expected: 'an integer ≥ 0', received: steps });
  const restarts = options.restarts ?? defaults.restarts ?? 1;
  if (!(Number.isInteger(restarts) && restarts >= 1))
    throw new InvalidArgumentError({ argument: 'restarts', expected: 'an integer ≥ 1', received: restarts });
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
    randomStart: options.randomStart ?? defaults.randomStart ?? true,
    earlyStop: options.earlyStop,
    rng: toRng(options.rng ?? defaults.rng, 0),
  };
}
