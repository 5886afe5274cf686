import {
  DEFAULT_EPSILON,
  PAPER_STEP_SIZE,
  STANDARD_STEP_SIZE,
  validateEpsilon,
  validateStepSize,
  validateSteps,
} from '@moco-robust/attacks';
import { InvalidArgumentError } from '@moco-robust/core';

/** What trains in fine-tuning (`mode`). */
export const FINETUNE_MODES = ['linear', 'partial', 'full'] as const;

/** Fine-tuning losses (`loss`). */
export const FINETUNE_LOSSES = ['standard', 'adversarial', 'mixed', 'trades'] as const;

/** Learning-rate schedules of fine-tuning (`optimizer.schedule`). */
export const FINETUNE_SCHEDULES = ['step', 'cosine', 'constant'] as const;

/** Settings of a fine-tuning run (saved with its checkpoints). */
export interface FinetuneConfig {
  seed: number;
  epochs: number;
  batchSize: number;
  /**
   * `linear`: frozen encoder (inference-mode features) + new head; `partial`: the first `frozenStages` stages frozen;
   * `full`: everything trains.
   */
  mode: (typeof FINETUNE_MODES)[number];
  /** Stages frozen in `partial` mode (the stem counts as stage 0). */
  frozenStages: number;
  /**
   * Training loss: `standard` (clean CE), `adversarial` (Madry: CE on PGD examples), `mixed` (the
   * paper's: mean of clean and adversarial CE), `trades` (Zhang et al. 2019: CE + β·KL).
   */
  loss: (typeof FINETUNE_LOSSES)[number];
  /** TRADES β; default 6. */
  tradesBeta: number;
  attack: { epsilon: number; stepSize: number; steps: number };
  optimizer: {
    learningRate: number;
    momentum: number;
    weightDecay: number;
    /** `step` decays ×0.1 at `milestones` (epochs); `cosine`; `constant`. */
    schedule: (typeof FINETUNE_SCHEDULES)[number];
    milestones: number[];
  };
  /** Held-out validation images taken from the training set for model selection (0: none). */
  validationSize: number;
  /** Validation PGD steps (model selection on robust accuracy for adversarial losses). */
  validationPgdSteps: number;
  /** Random crop (4-pixel padding) + horizontal flip of training batches. */
  augment: boolean;
  checkpointEveryEpochs: number;
  /** Also checkpoint every this many steps (0: only per epoch); default 0. */
  checkpointEverySteps?: number;
  /** Checkpoints kept (the newest ones); default 3. */
  checkpointKeep?: number;
  logEvery: number;
}

/**
 * The paper's fine-tuning (§4): lr 0.1, wd 3e-4, PGD-20 with step 8/255 at train time, 50 epochs, clean + adversarial
 * loss.
 */
export const PAPER_FINETUNE: FinetuneConfig = {
  seed: 0,
  epochs: 50,
  batchSize: 128,
  mode: 'full',
  frozenStages: 0,
  loss: 'mixed',
  tradesBeta: 6,
  attack: { epsilon: DEFAULT_EPSILON, stepSize: PAPER_STEP_SIZE, steps: 20 },
  optimizer: { learningRate: 0.1, momentum: 0.9, weightDecay: 3e-4, schedule: 'cosine', milestones: [] },
  validationSize: 1000,
  validationPgdSteps: 10,
  augment: true,
  checkpointEveryEpochs: 1,
  logEvery: 20,
};

/**
 * The community protocol (Chen et al. 2020): PGD-10 (step 2/255) Madry training, 100 epochs, lr 0.1 decayed ×0.1 at 60
 * and 80, wd 2e-4.
 */
export const STANDARD_FINETUNE: FinetuneConfig = {
  ...PAPER_FINETUNE,
  epochs: 100,
  loss: 'adversarial',
  attack: { epsilon: DEFAULT_EPSILON, stepSize: STANDARD_STEP_SIZE, steps: 10 },
  optimizer: { learningRate: 0.1, momentum: 0.9, weightDecay: 2e-4, schedule: 'step', milestones: [60, 80] },
};

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends number[] ? number[] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

/** Merges overrides into `base` (default {@link STANDARD_FINETUNE}) and validates, naming the field in errors. */
export function resolveFinetuneConfig(
  overrides: DeepPartial<FinetuneConfig> = {},
  base: FinetuneConfig = STANDARD_FINETUNE,
): FinetuneConfig {
  const c = {
    ...base,
    ...overrides,
    attack: { ...base.attack, ...overrides.attack },
    optimizer: { ...base.optimizer, ...overrides.optimizer },
  } as FinetuneConfig;
  const fail = (argument: string, expected: string, received: unknown) => {
    throw new InvalidArgumentError({ argument, expected, received });
  };
  const int = (name: string, v: number, min: number) =>
    (Number.isInteger(v) && v >= min) || fail(name, `an integer ≥ ${min}`, v);
  const num = (name: string, v: number, min: number, max = Infinity) =>
    (Number.isFinite(v) && v >= min && v <= max) || fail(name, `a number in [${min}, ${max}]`, v);
  const oneOf = (name: string, v: unknown, options: readonly string[]) =>
    options.includes(v as string) || fail(name, `one of ${options.join(', ')}`, v);
  int('seed', c.seed, 0);
  int('epochs', c.epochs, 1);
  int('batchSize', c.batchSize, 1);
  oneOf('mode', c.mode, FINETUNE_MODES);
  int('frozenStages', c.frozenStages, 0);
  oneOf('loss', c.loss, FINETUNE_LOSSES);
  num('tradesBeta', c.tradesBeta, 0);
  validateEpsilon(c.attack.epsilon, { argument: 'attack.epsilon' });
  validateStepSize(c.attack.stepSize, { argument: 'attack.stepSize' });
  validateSteps(c.attack.steps, { argument: 'attack.steps', minimum: 1 });
  num('optimizer.learningRate', c.optimizer.learningRate, 0);
  num('optimizer.momentum', c.optimizer.momentum, 0, 1);
  num('optimizer.weightDecay', c.optimizer.weightDecay, 0);
  oneOf('optimizer.schedule', c.optimizer.schedule, FINETUNE_SCHEDULES);
  int('validationSize', c.validationSize, 0);
  int('validationPgdSteps', c.validationPgdSteps, 1);
  int('checkpointEveryEpochs', c.checkpointEveryEpochs, 0);
  if (c.checkpointEverySteps !== undefined) int('checkpointEverySteps', c.checkpointEverySteps, 0);
  if (c.checkpointKeep !== undefined) int('checkpointKeep', c.checkpointKeep, 1);
  int('logEvery', c.logEvery, 1);
  return c;
}
