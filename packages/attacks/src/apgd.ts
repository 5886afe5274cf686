import * as tf from '@tensorflow/tfjs-core';
import {
  assertGradientsRegistered,
  InvalidArgumentError,
  toRng,
  withConstantWeights,
  type Rng,
} from '@moco-robust/core';
import { ATTACK_DEFAULTS, DEFAULT_EPSILON, validateEpsilon, validateRestarts, validateSteps } from './attack-settings';
import { checkImages } from './input-checks';
import { ascentDirection, project, randomStart } from './projection';

/**
 * What APGD ascends: per-example losses [N] at `xAdv`, or `{loss, success}` where `success` (bool or
 * 0/1 [N]) says which examples are already adversarial there — computed from the same forward pass,
 * so tracking success costs nothing extra.
 */
export type ApgdObjective = (xAdv: tf.Tensor4D) => tf.Tensor1D | { loss: tf.Tensor1D; success: tf.Tensor1D };

/** Options of {@link apgd}; ε in [0, 1] pixel units. */
export interface ApgdOptions {
  /** Radius of the ε-ball; default 8/255. */
  epsilon?: number;
  /** Iterations (gradient evaluations after the start); default 100 as in AutoAttack. */
  steps?: number;
  /** Independent runs from new random starts; successes first, then the highest loss, per example. Default 1. */
  restarts?: number;
  /** Threat model; default `linf`. */
  norm?: 'linf' | 'l2';
  /** Step halving threshold: halve when the loss rose in at most ρ of the steps since the last checkpoint. 0.75. */
  rho?: number;
  /** Weight of the new step against the previous move (AutoAttack's α); default 0.75. */
  momentum?: number;
  /** Seed or generator for the random starts; default seed 0. */
  rng?: number | Rng;
  /**
   * Called at each checkpoint with tensors valid only during the call (read them to observe the
   * schedule; the attack itself never reads back): `stepSize` and `reduced` (1 where halved) [N].
   */
  onCheckpoint?: (checkpoint: { iteration: number; stepSize: tf.Tensor1D; reduced: tf.Tensor1D }) => void;
}

/** The result of `apgdWithDetails`; the caller disposes every tensor. */
export interface ApgdResult {
  /** The last successful point where one was found, else the highest-loss point: [N, H, W, C]. */
  adversarial: tf.Tensor4D;
  /** Highest loss reached, per example [N]. */
  bestLoss: tf.Tensor1D;
  /** 1 where some iterate was adversarial (only with a `success` objective), else 0: [N]. */
  success: tf.Tensor1D;
  /** Final step size per example [N]. */
  stepSize: tf.Tensor1D;
}

/**
 * The iterations (0-based, after which the step size is reviewed) of APGD's checkpoint schedule for
 * `steps` iterations: first after 22% of them, then intervals shrinking by 3% down to 6%
 * (Croce & Hein 2020: p₀ = 0, p₁ = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)).
 */
export function apgdCheckpoints(steps: number): number[] {
  const first = Math.max(Math.floor(0.22 * steps), 1);
  const minimum = Math.max(Math.floor(0.06 * steps), 1);
  const decrease = Math.max(Math.floor(0.03 * steps), 1);
  const checkpoints: number[] = [];
  for (let k = first, at = first - 1; at < steps; k = Math.max(k - decrease, minimum), at += k) checkpoints.push(at);
  return checkpoints;
}

/**
 * Auto-PGD (Croce & Hein, ICML 2020) on any per-example objective: from a random point of the ε-ball,
 * steps of size η (initially 2ε) with momentum 0.75; at each checkpoint (`apgdCheckpoints`) an
 * example whose loss rose in at most ρ = 0.75 of the steps since the last one, or whose best loss did
 * not improve since then without a reduction last time, has η halved and restarts from its best point.
 * Maximises. Defaults: ε 8/255, 100 steps, L∞, 1 restart. Returns a new tensor; no host reads.
 */
export function apgd(objective: ApgdObjective, x: tf.Tensor4D, options: ApgdOptions = {}): tf.Tensor4D {
  const result = apgdWithDetails(objective, x, options);
  tf.dispose([result.bestLoss, result.success, result.stepSize]);
  return result.adversarial;
}

/** {@link apgd} that also returns the best loss, success flags and final step sizes (the caller disposes them). */
export function apgdWithDetails(objective: ApgdObjective, x: tf.Tensor4D, options: ApgdOptions = {}): ApgdResult {
  return withConstantWeights(() => runApgd(objective, x, options));
}

function runApgd(objective: ApgdObjective, x: tf.Tensor4D, options: ApgdOptions): ApgdResult {
  if (typeof objective !== 'function')
    throw new InvalidArgumentError({
      argument: 'objective',
      expected: 'a function (xAdv) => per-example losses [N] or {loss, success}',
      received: objective,
    });
  checkImages(x);
  assertGradientsRegistered('apgd');
  const o = resolveApgdOptions(options);
  const n = x.shape[0];
  if (o.epsilon === 0 || o.steps === 0) {
    return tf.tidy(() => {
      const { loss } = evaluate(objective, x, n);
      return {
        adversarial: tf.clone(x),
        bestLoss: loss,
        success: tf.zeros([n]) as tf.Tensor1D,
        stepSize: tf.zeros([n]) as tf.Tensor1D,
      };
    });
  }
  let best: ApgdResult | undefined;
  for (let restart = 0; restart < o.restarts; restart++) {
    const run = singleRun(objective, x, o, n);
    if (!best) {
      best = run;
      continue;
    }
    const previous = best;
    best = tf.tidy(() => {
      // a success beats a failure; otherwise the higher loss wins
      const takeNew = tf.logicalOr(
        tf.greater(run.success, previous.success),
        tf.logicalAnd(tf.equal(run.success, previous.success), tf.greater(run.bestLoss, previous.bestLoss)),
      ); // [N]
      const rows = tf.reshape(takeNew, [-1, 1, 1, 1]);
      return {
        adversarial: tf.where(rows, run.adversarial, previous.adversarial) as tf.Tensor4D,
        bestLoss: tf.where(takeNew, run.bestLoss, previous.bestLoss) as tf.Tensor1D,
        success: tf.maximum(run.success, previous.success) as tf.Tensor1D,
        stepSize: tf.where(takeNew, run.stepSize, previous.stepSize) as tf.Tensor1D,
      };
    });
    disposeResult(previous);
    disposeResult(run);
  }
  return best!;
}

type Resolved = Required<Omit<ApgdOptions, 'rng' | 'onCheckpoint'>> & Pick<ApgdOptions, 'onCheckpoint'> & { rng: Rng };

function resolveApgdOptions(options: ApgdOptions): Resolved {
  const norm = options.norm ?? 'linf';
  if (norm !== 'linf' && norm !== 'l2')
    throw new InvalidArgumentError({ argument: 'norm', expected: "'linf' or 'l2'", received: norm });
  const epsilon = validateEpsilon(options.epsilon ?? DEFAULT_EPSILON, { norm });
  const fraction = (name: 'rho' | 'momentum', value: number) => {
    if (!(Number.isFinite(value) && value >= 0 && value <= 1))
      throw new InvalidArgumentError({ argument: name, expected: 'a number in [0, 1]', received: value });
    return value;
  };
  if (options.onCheckpoint !== undefined && typeof options.onCheckpoint !== 'function')
    throw new InvalidArgumentError({
      argument: 'onCheckpoint',
      expected: 'a function',
      received: options.onCheckpoint,
    });
  return {
    norm,
    epsilon,
    steps: validateSteps(options.steps ?? 100),
    restarts: validateRestarts(options.restarts ?? ATTACK_DEFAULTS.restarts),
    rho: fraction('rho', options.rho ?? 0.75),
    momentum: fraction('momentum', options.momentum ?? 0.75),
    rng: toRng(options.rng, 0),
    onCheckpoint: options.onCheckpoint,
  };
}

/** Per-example loss, input gradient and success (0/1) at `xAdv`, from one forward and one backward pass. */
function evaluate(
  objective: ApgdObjective,
  xAdv: tf.Tensor4D,
  n: number,
): { loss: tf.Tensor1D; gradient: tf.Tensor4D; success: tf.Tensor1D } {
  let loss: tf.Tensor1D | undefined;
  let success: tf.Tensor1D | undefined;
  const gradient = tf.grad((input: tf.Tensor) => {
    const out = objective(input as tf.Tensor4D);
    const pair = isPair(out) ? out : undefined;
    const value = pair ? pair.loss : (out as tf.Tensor1D);
    if (value?.rank !== 1 || value.shape[0] !== n)
      throw new InvalidArgumentError({
        argument: 'objective',
        expected: `a function returning per-example losses [${n}]`,
        received: value,
      });
    loss = tf.keep(value);
    if (pair) success = tf.keep(tf.cast(pair.success, 'float32') as tf.Tensor1D);
    return tf.sum(value);
  })(xAdv) as tf.Tensor4D;
  // the kept tensors escape every scope: hand clones to the caller's scope and free the originals
  const owned = { loss: loss!.clone(), gradient, success: success ? success.clone() : (tf.zeros([n]) as tf.Tensor1D) };
  tf.dispose([loss!, success!].filter(Boolean));
  return owned;
}

function isPair(out: unknown): out is { loss: tf.Tensor1D; success: tf.Tensor1D } {
  return typeof out === 'object' && out !== null && 'loss' in out && 'success' in out;
}

/** The carried state of one APGD run (all tensors owned by the loop). */
type State = {
  xAdv: tf.Tensor4D;
  xPrevious: tf.Tensor4D;
  gradient: tf.Tensor4D;
  loss: tf.Tensor1D;
  xBest: tf.Tensor4D;
  gradientBest: tf.Tensor4D;
  lossBest: tf.Tensor1D;
  xSuccess: tf.Tensor4D;
  success: tf.Tensor1D;
  stepSize: tf.Tensor1D;
  increases: tf.Tensor1D;
  lossBestAtCheck: tf.Tensor1D;
  reducedAtCheck: tf.Tensor1D;
};

function singleRun(objective: ApgdObjective, x: tf.Tensor4D, o: Resolved, n: number): ApgdResult {
  const rows = (t: tf.Tensor) => tf.reshape(t, [-1, 1, 1, 1]);
  let state: State = tf.tidy(() => {
    const xAdv = randomStart(x, o.epsilon, o.norm, o.rng.tfSeed());
    const { loss, gradient, success } = evaluate(objective, xAdv, n);
    return {
      xAdv,
      xPrevious: xAdv.clone(),
      gradient,
      loss,
      xBest: xAdv.clone(),
      gradientBest: gradient.clone(),
      lossBest: loss.clone(),
      xSuccess: xAdv.clone(),
      success,
      stepSize: tf.fill([n], 2 * o.epsilon) as tf.Tensor1D,
      increases: tf.zeros([n]) as tf.Tensor1D,
      lossBestAtCheck: loss.clone(),
      reducedAtCheck: tf.ones([n]) as tf.Tensor1D,
    };
  });
  const checkpoints = new Set(apgdCheckpoints(o.steps));
  let interval = Math.max(Math.floor(0.22 * o.steps), 1);
  const minimum = Math.max(Math.floor(0.06 * o.steps), 1);
  const decrease = Math.max(Math.floor(0.03 * o.steps), 1);
  for (let i = 0; i < o.steps; i++) {
    const s = state;
    const next: State = tf.tidy(() => {
      // z = P(x + η·dir(g)); x' = P(x + a(z − x) + (1 − a)(x − x_prev)), a = 1 on the first step
      const a = i === 0 ? 1 : o.momentum;
      const z = project(
        tf.add(s.xAdv, tf.mul(ascentDirection(s.gradient, o.norm), rows(s.stepSize))) as tf.Tensor4D,
        x,
        o.epsilon,
        o.norm,
      );
      const moved = tf.add(tf.add(s.xAdv, tf.mul(tf.sub(z, s.xAdv), a)), tf.mul(tf.sub(s.xAdv, s.xPrevious), 1 - a));
      const xAdv = project(moved as tf.Tensor4D, x, o.epsilon, o.norm);
      const { loss, gradient, success } = evaluate(objective, xAdv, n);
      const improved = tf.greater(loss, s.lossBest); // [N]
      let next: State = {
        xAdv,
        xPrevious: s.xAdv.clone(),
        gradient,
        loss,
        xBest: tf.where(rows(improved), xAdv, s.xBest) as tf.Tensor4D,
        gradientBest: tf.where(rows(improved), gradient, s.gradientBest) as tf.Tensor4D,
        lossBest: tf.where(improved, loss, s.lossBest) as tf.Tensor1D,
        xSuccess: tf.where(rows(tf.cast(success, 'bool')), xAdv, s.xSuccess) as tf.Tensor4D,
        success: tf.maximum(s.success, success) as tf.Tensor1D,
        stepSize: s.stepSize.clone(),
        increases: tf.add(s.increases, tf.cast(tf.greater(loss, s.loss), 'float32')) as tf.Tensor1D,
        lossBestAtCheck: s.lossBestAtCheck.clone(),
        reducedAtCheck: s.reducedAtCheck.clone(),
      };
      if (checkpoints.has(i)) next = checkpoint(next, interval, o, i);
      return next;
    });
    if (checkpoints.has(i)) interval = Math.max(interval - decrease, minimum);
    tf.dispose(Object.values(s));
    state = next;
  }
  const result = tf.tidy(() => {
    const succeeded = tf.cast(state.success, 'bool');
    return {
      adversarial: tf.where(rows(succeeded), state.xSuccess, state.xBest) as tf.Tensor4D,
      bestLoss: state.lossBest.clone(),
      success: state.success.clone(),
      stepSize: state.stepSize.clone(),
    };
  });
  tf.dispose(Object.values(state));
  return result;
}

/**
 * The step-size review: halve η (and go back to the best point and its gradient) where the loss rose
 * in at most ρ·interval steps, or where the best loss has not improved and η was not halved last time.
 */
function checkpoint(s: State, interval: number, o: Resolved, iteration: number): State {
  const rows = (t: tf.Tensor) => tf.reshape(t, [-1, 1, 1, 1]);
  const oscillating = tf.lessEqual(s.increases, interval * o.rho); // [N]
  const stalled = tf.logicalAnd(tf.equal(s.reducedAtCheck, 0), tf.greaterEqual(s.lossBestAtCheck, s.lossBest));
  const reduce = tf.logicalOr(oscillating, stalled); // [N]
  const reduced = tf.cast(reduce, 'float32') as tf.Tensor1D;
  const stepSize = tf.where(reduce, tf.div(s.stepSize, 2), s.stepSize) as tf.Tensor1D;
  o.onCheckpoint?.({ iteration, stepSize, reduced });
  return {
    ...s,
    xAdv: tf.where(rows(reduce), s.xBest, s.xAdv) as tf.Tensor4D,
    gradient: tf.where(rows(reduce), s.gradientBest, s.gradient) as tf.Tensor4D,
    stepSize,
    increases: tf.zerosLike(s.increases),
    lossBestAtCheck: s.lossBest.clone(),
    reducedAtCheck: reduced,
  };
}

function disposeResult(result: ApgdResult): void {
  tf.dispose([result.adversarial, result.bestLoss, result.success, result.stepSize]);
}
