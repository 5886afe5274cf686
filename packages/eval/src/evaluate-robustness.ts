import * as tf from '@tensorflow/tfjs-core';
import { assertGradientsRegistered, emit, InvalidArgumentError, Rng, type EventListener } from '@moco-robust/core';
import {
  ATTACK_DEFAULTS,
  autoAttack,
  DEFAULT_EPSILON,
  fgsm,
  PAPER_FGSM_EPSILON,
  supervisedPgd,
  toForward,
  validateEpsilon,
  validateRestarts,
  validateStepSize,
  validateSteps,
  type AutoAttackStage,
  type ModelLikeForward,
} from '@moco-robust/attacks';
import { assertImageSet, sliceImages, sliceLabels, type LabelledImageSet } from '@moco-robust/data';
import { checkClassifierData } from './check-model-data';

/** Settings of a robustness evaluation; ε and steps in [0, 1] pixel units. */
export interface RobustnessSettings {
  /** FGSM ε (and step); the paper: 10/255, standard: 8/255. */
  fgsmEpsilon: number;
  /** PGD ε; 8/255. */
  pgdEpsilon: number;
  /** PGD step; 2/255 under both protocols. */
  pgdStepSize: number;
  /** PGD steps; 20. */
  pgdSteps: number;
  /** PGD random restarts (worst case kept); 1. */
  pgdRestarts: number;
  /** Images per batch; default 128. */
  batchSize: number;
  seed: number;
  /** AutoAttack version for `autoattack`: `standard` (default) or `cpu` (APGD-CE + APGD-T); its ε is `pgdEpsilon`. */
  autoAttackVersion?: 'standard' | 'cpu';
  /** APGD iterations of `autoattack`; default AutoAttack's 100 (fewer: a weaker, cheaper attack, named in reports). */
  autoAttackSteps?: number;
}

/** Accuracy of one attack (or none), overall and per class. */
export interface AccuracyResult {
  /** Which attack produced the number, with its settings (reports show it). */
  attack: string;
  accuracy: number;
  correct: number;
  total: number;
  perClass: number[];
}

/** Result of {@link evaluateRobustness}. */
export interface RobustnessResult {
  clean: AccuracyResult;
  fgsm?: AccuracyResult;
  pgd?: AccuracyResult;
  /** AutoAttack robust accuracy, with the cascade summed over batches and what was skipped. */
  autoAttack?: AccuracyResult & { cascade: AutoAttackStage[]; notes: string[] };
  settings: RobustnessSettings;
  /** Gradient-masking flags in the spirit of AutoAttack's: each with a message when raised. */
  warnings: string[];
  /** Fraction of test images whose input gradient is exactly zero. */
  zeroGradientFraction: number;
}

/** Default settings: the community protocol (PGD-20, ε 8/255, step 2/255, FGSM ε 8/255). */
export const STANDARD_ROBUSTNESS: RobustnessSettings = {
  fgsmEpsilon: DEFAULT_EPSILON,
  pgdEpsilon: DEFAULT_EPSILON,
  pgdStepSize: ATTACK_DEFAULTS.stepSize,
  pgdSteps: 20,
  pgdRestarts: ATTACK_DEFAULTS.restarts,
  batchSize: 128,
  seed: 0,
};

/**
 * The paper's evaluation: FGSM ε = step 10/255; PGD-20 ε 8/255 with step 2/255 — the paper gives no evaluation step
 * and the numbers its Table 1 quotes were measured with 2/255 (docs/protocol.md, "Evaluation").
 */
export const PAPER_ROBUSTNESS: RobustnessSettings = {
  ...STANDARD_ROBUSTNESS,
  fgsmEpsilon: PAPER_FGSM_EPSILON,
};

/** Events of {@link evaluateRobustness}. */
export type EvaluateEvent = { type: 'eval-progress'; done: number; total: number; attack: string };

/**
 * Clean, FGSM and PGD accuracy of a classifier (images in [0, 1] → logits) with the model in
 * inference mode, streamed in batches with bounded memory; per-class accuracy; and sanity checks
 * for gradient masking (zero input gradients; FGSM stronger than PGD).
 */
export function evaluateRobustness(
  model: ModelLikeForward,
  test: LabelledImageSet,
  options: {
    settings?: Partial<RobustnessSettings>;
    attacks?: Array<'clean' | 'fgsm' | 'pgd' | 'autoattack'>;
    numClasses?: number;
    onEvent?: EventListener<EvaluateEvent>;
  } = {},
): RobustnessResult {
  assertImageSet(test, 'test', { labelled: true });
  assertGradientsRegistered('evaluateRobustness');
  const settings = { ...STANDARD_ROBUSTNESS, ...options.settings };
  const attacks = new Set(options.attacks ?? ['clean', 'fgsm', 'pgd']);
  validateRobustnessSettings(settings, attacks);
  const numClasses = checkClassifierData(model, test, { numClasses: options.numClasses });
  const forward = toForward(model);
  const rng = Rng.fromSeed(settings.seed);
  const counters = {
    clean: newCounter(numClasses),
    fgsm: newCounter(numClasses),
    pgd: newCounter(numClasses),
    autoAttack: newCounter(numClasses),
  };
  const cascade = new Map<string, AutoAttackStage>();
  const autoAttackNotes = new Set<string>();
  let zeroGradients = 0;
  for (let start = 0; start < test.count; start += settings.batchSize) {
    const size = Math.min(settings.batchSize, test.count - start);
    const x = sliceImages(test, start, size);
    const y = sliceLabels(test, start, size);
    const labels = test.labels.subarray(start, start + size);
    tally(counters.clean, predict(forward, x), labels);
    zeroGradients += countZeroGradients(forward, x, y);
    if (attacks.has('fgsm')) {
      const adversarial = fgsm(model, x, y, { epsilon: settings.fgsmEpsilon });
      tally(counters.fgsm, predict(forward, adversarial), labels);
      adversarial.dispose();
    }
    if (attacks.has('pgd')) {
      const adversarial = supervisedPgd(model, x, y, {
        epsilon: settings.pgdEpsilon,
        stepSize: settings.pgdStepSize,
        steps: settings.pgdSteps,
        restarts: settings.pgdRestarts,
        rng: rng.fork(`pgd/${start}`),
      });
      tally(counters.pgd, predict(forward, adversarial), labels);
      adversarial.dispose();
    }
    if (attacks.has('autoattack')) {
      const auto = autoAttack(model, x, y, {
        version: settings.autoAttackVersion ?? 'standard',
        epsilon: settings.pgdEpsilon,
        seed: rng.fork(`autoattack/${start}`).tfSeed(),
        batchSize: size,
        ...(settings.autoAttackSteps === undefined ? {} : { steps: settings.autoAttackSteps }),
      });
      auto.adversarial.dispose();
      tally(
        counters.autoAttack,
        Int32Array.from(auto.robustFlags, (r, i) => (r ? labels[i] : -1)),
        labels,
      );
      for (const stage of auto.cascade) {
        const sum = cascade.get(stage.attack) ?? { attack: stage.attack, attacked: 0, broke: 0, robustAfter: 0 };
        cascade.set(stage.attack, {
          ...sum,
          attacked: sum.attacked + stage.attacked,
          broke: sum.broke + stage.broke,
          robustAfter: sum.robustAfter + stage.robustAfter,
        });
      }
      for (const note of auto.notes) autoAttackNotes.add(note);
    }
    tf.dispose([x, y]);
    emit(options.onEvent, {
      type: 'eval-progress',
      done: start + size,
      total: test.count,
      attack: [...attacks].join('+'),
    });
  }
  const result: RobustnessResult = {
    clean: finish(counters.clean, 'clean'),
    settings,
    warnings: [],
    zeroGradientFraction: zeroGradients / test.count,
  };
  if (attacks.has('fgsm')) result.fgsm = finish(counters.fgsm, `FGSM (ε=${fraction255(settings.fgsmEpsilon)})`);
  if (attacks.has('pgd')) {
    result.pgd = finish(
      counters.pgd,
      `PGD-${settings.pgdSteps} (ε=${fraction255(settings.pgdEpsilon)}, α=${fraction255(settings.pgdStepSize)}, ` +
        `${settings.pgdRestarts} restart${settings.pgdRestarts > 1 ? 's' : ''})`,
    );
  }
  if (attacks.has('autoattack')) {
    const version = settings.autoAttackVersion ?? 'standard';
    result.autoAttack = {
      ...finish(
        counters.autoAttack,
        `AutoAttack ${version} (L∞, ε=${fraction255(settings.pgdEpsilon)}` +
          `${settings.autoAttackSteps === undefined ? '' : `, APGD ${settings.autoAttackSteps} iterations`})`,
      ),
      cascade: [...cascade.values()],
      notes: [...autoAttackNotes],
    };
    result.warnings.push(...autoAttackWarnings(result));
  }
  if (result.zeroGradientFraction > 0.05) {
    result.warnings.push(
      `${(100 * result.zeroGradientFraction).toFixed(1)}% of test images have an all-zero ` +
        `input gradient: a sign of gradient masking; robust accuracy may be overestimated.`,
    );
  }
  if (
    result.fgsm &&
    result.pgd &&
    result.fgsm.accuracy < result.pgd.accuracy &&
    settings.fgsmEpsilon <= settings.pgdEpsilon
  ) {
    result.warnings.push(
      `FGSM (${pct(result.fgsm.accuracy)}) is stronger than PGD (${pct(result.pgd.accuracy)}) ` +
        `at the same or smaller ε: a sign of gradient masking or a too-weak PGD.`,
    );
  }
  return result;
}

/** AutoAttack more than this far below PGD (accuracy fraction) flags gradient masking. */
export const GRADIENT_MASKING_GAP = 0.05;

/**
 * Gradient-masking flags from AutoAttack: far below PGD at the same ε (PGD was misled by the gradients),
 * or Square — which never reads a gradient — breaking points the gradient attacks left (AutoAttack's own check).
 */
/**
 * Checks the robustness settings the `attacks` use (default: every attack), naming the field (`settings.pgdSteps`) in
 * the error: ε and steps with the attacks library's validators, the batch size, AutoAttack's iterations.
 */
export function validateRobustnessSettings(
  settings: RobustnessSettings,
  attacks: ReadonlySet<string> = new Set(['clean', 'fgsm', 'pgd', 'autoattack']),
): void {
  if (!(Number.isInteger(settings.batchSize) && settings.batchSize > 0))
    throw new InvalidArgumentError({
      argument: 'settings.batchSize',
      expected: 'a positive integer',
      received: settings.batchSize,
    });
  if (attacks.has('fgsm')) validateEpsilon(settings.fgsmEpsilon, { argument: 'settings.fgsmEpsilon' });
  if (attacks.has('pgd') || attacks.has('autoattack'))
    validateEpsilon(settings.pgdEpsilon, { argument: 'settings.pgdEpsilon' });
  if (attacks.has('pgd')) {
    validateStepSize(settings.pgdStepSize, { argument: 'settings.pgdStepSize' });
    validateSteps(settings.pgdSteps, { argument: 'settings.pgdSteps' });
    validateRestarts(settings.pgdRestarts, { argument: 'settings.pgdRestarts' });
  }
  if (attacks.has('autoattack') && settings.autoAttackSteps !== undefined)
    validateSteps(settings.autoAttackSteps, { argument: 'settings.autoAttackSteps', minimum: 1 });
}

function autoAttackWarnings(result: RobustnessResult): string[] {
  const warnings: string[] = [];
  const auto = result.autoAttack!;
  if (result.pgd && result.settings.pgdEpsilon > 0 && result.pgd.accuracy - auto.accuracy > GRADIENT_MASKING_GAP) {
    warnings.push(
      `AutoAttack (${pct(auto.accuracy)}) is ${(100 * (result.pgd.accuracy - auto.accuracy)).toFixed(2)} points ` +
        `below PGD (${pct(result.pgd.accuracy)}): PGD overestimates robustness here, a sign of gradient masking.`,
    );
  }
  const squareStage = auto.cascade.find((s) => s.attack === 'square');
  if (squareStage && squareStage.broke > 0.002 * auto.total) {
    warnings.push(
      `Square (score-based, no gradients) broke ${squareStage.broke} points the gradient attacks could not: ` +
        `the gradients may be masked; consider an adaptive attack.`,
    );
  }
  return warnings;
}

/** `k/255` when ε is a multiple of 1/255, else the decimal. */
export function fraction255(value: number): string {
  const k = value * 255;
  return Math.abs(k - Math.round(k)) < 1e-6 ? `${Math.round(k)}/255` : value.toFixed(4);
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

interface Counter {
  correct: number[];
  total: number[];
}

function newCounter(numClasses: number): Counter {
  return { correct: new Array(numClasses).fill(0), total: new Array(numClasses).fill(0) };
}

function predict(forward: (x: tf.Tensor4D) => tf.Tensor2D, x: tf.Tensor4D): Int32Array {
  const predictions = tf.tidy(() => tf.cast(tf.argMax(forward(x), 1), 'int32'));
  const values = predictions.dataSync() as Int32Array;
  predictions.dispose();
  return values;
}

function tally(counter: Counter, predictions: Int32Array, labels: Int32Array): void {
  for (let i = 0; i < labels.length; i++) {
    counter.total[labels[i]]++;
    if (predictions[i] === labels[i]) counter.correct[labels[i]]++;
  }
}

function finish(counter: Counter, attack: string): AccuracyResult {
  const correct = counter.correct.reduce((a, b) => a + b, 0);
  const total = counter.total.reduce((a, b) => a + b, 0);
  return {
    attack,
    accuracy: total ? correct / total : 0,
    correct,
    total,
    perClass: counter.correct.map((c, i) => (counter.total[i] ? c / counter.total[i] : 0)),
  };
}

function countZeroGradients(forward: (x: tf.Tensor4D) => tf.Tensor2D, x: tf.Tensor4D, y: tf.Tensor1D): number {
  const zero = tf.tidy(() => {
    const gradient = tf.grad((input: tf.Tensor) => {
      const logits = forward(input as tf.Tensor4D);
      return tf.sum(tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(y, logits.shape[1])), 1)));
    })(x);
    return tf.sum(tf.cast(tf.equal(tf.max(tf.abs(gradient), [1, 2, 3]), 0), 'float32'));
  });
  const value = zero.dataSync()[0];
  zero.dispose();
  return value;
}
