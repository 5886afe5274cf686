import {
  ATTACK_DEFAULTS,
  PAPER_STEP_SIZE,
  validateEpsilon,
  validateStepSize,
  validateSteps,
} from '@moco-robust/attacks';
import { InvalidArgumentError } from '@moco-robust/core';

/** Pre-training attacks (`attack.kind`): MoCo-PGD, MoCo-FGSM (for another task: PGD / FGSM on its loss) or none. */
export const PRETRAIN_ATTACK_KINDS = ['pgd', 'fgsm', 'none'] as const;
export type PretrainAttackKind = (typeof PRETRAIN_ATTACK_KINDS)[number];

/**
 * The paper's names of the {@link PRETRAIN_ATTACK_KINDS} (`moco-pgd` = MoCo-PGD), as the CLI's `--attack`, grid specs,
 * grid cell names and reports spell them; `attack.kind` is what a config saves.
 */
export const PRETRAIN_ATTACK_NAMES = { pgd: 'moco-pgd', fgsm: 'moco-fgsm', none: 'none' } as const satisfies Record<
  PretrainAttackKind,
  string
>;

/** Learning-rate schedules of pre-training (`optimizer.schedule`). */
export const PRETRAIN_SCHEDULES = ['cosine', 'constant'] as const;

/** Batch-norm modes of the encoder while the attack crafts (`attack.batchNorm`). */
export const ATTACK_BATCH_NORM_MODES = ['eval', 'train'] as const;

/** Training losses a config can impose on the task (`combine`; absent: the task's own). */
export const PRETRAIN_COMBINES = ['adversarial', 'mean'] as const;

/** Resolved, JSON-serializable settings of a pre-training run (saved as `config.json` with every checkpoint). */
export interface PretrainConfig {
  /** Seed of every random draw of the run (data order, augmentation, attack starts, queue init). */
  seed: number;
  epochs: number;
  /** Images per step; the last partial batch of an epoch is dropped. */
  batchSize: number;
  optimizer: {
    /** Base learning rate; the paper: 0.06. */
    learningRate: number;
    /** SGD momentum; default 0.9. */
    momentum: number;
    /** Coupled weight decay; the paper: 5e-4. */
    weightDecay: number;
    /** `cosine` (MoCo's, per epoch) or `constant`. */
    schedule: (typeof PRETRAIN_SCHEDULES)[number];
    /** Linear warm-up epochs; default 0. */
    warmupEpochs: number;
  };
  attack: {
    /** `pgd` (MoCo-PGD: random start, k steps), `fgsm` (MoCo-FGSM: one step of ε), `none` (plain pre-training). */
    kind: PretrainAttackKind;
    /** L∞ radius, pixel units; paper 8/255. */
    epsilon: number;
    /** Step size; paper 8/255, community 2/255 (docs/protocol.md, "Pre-training"). FGSM uses ε. */
    stepSize: number;
    /** PGD steps; paper 10. */
    steps: number;
    /** Batch-norm mode of the encoder while crafting: `eval` (running statistics, no side effects) or `train`. */
    batchNorm: (typeof ATTACK_BATCH_NORM_MODES)[number];
  };
  /** Override of the task's own `combine` (adversarial only — the paper — or the mean of clean and adversarial). */
  combine?: (typeof PRETRAIN_COMBINES)[number];
  checkpoint: {
    /** Save every N steps (0: never by steps). */
    everySteps: number;
    /** Save at the end of every N epochs (0: never by epochs). The final step is always saved. */
    everyEpochs: number;
    /** Checkpoints kept on disk. */
    keep: number;
  };
  knn: {
    /** Run the kNN monitor every N epochs (0: never). */
    everyEpochs: number;
    k: number;
    temperature: number;
  };
  /** Read the loss back to the host every N steps (a host sync); default 10. */
  logEvery: number;
}

/**
 * Defaults of {@link PretrainConfig}: the paper's optimiser (lr 0.06, momentum 0.9, wd 5e-4, cosine) and MoCo-PGD with
 * the community's step 2/255.
 */
export const DEFAULT_PRETRAIN_CONFIG: PretrainConfig = {
  seed: 0,
  epochs: 200,
  batchSize: 128,
  optimizer: { learningRate: 0.06, momentum: 0.9, weightDecay: 5e-4, schedule: 'cosine', warmupEpochs: 0 },
  attack: {
    kind: 'pgd',
    epsilon: ATTACK_DEFAULTS.epsilon,
    stepSize: ATTACK_DEFAULTS.stepSize,
    steps: ATTACK_DEFAULTS.steps,
    batchNorm: 'eval',
  },
  checkpoint: { everySteps: 0, everyEpochs: 1, keep: 3 },
  knn: { everyEpochs: 1, k: 200, temperature: 0.1 },
  logEvery: 10,
};

/**
 * The paper's text literally: MoCo-PGD-10 with ε = step = 8/255, batch 128, lr 0.06, wd 5e-4, cosine, 200 epochs
 * (docs/protocol.md, "Pre-training").
 */
export const PAPER_PRETRAIN: PretrainConfig = {
  ...DEFAULT_PRETRAIN_CONFIG,
  attack: { ...DEFAULT_PRETRAIN_CONFIG.attack, stepSize: PAPER_STEP_SIZE },
};

/**
 * A CPU-sized run (minutes on 2 cores with a ResNet-10 of width 16): batch 64, 4 epochs, MoCo-PGD-3 with step 2/255,
 * kNN every epoch.
 */
export const CPU_PRETRAIN: PretrainConfig = {
  ...DEFAULT_PRETRAIN_CONFIG,
  epochs: 4,
  batchSize: 64,
  attack: { ...DEFAULT_PRETRAIN_CONFIG.attack, steps: 3 },
  logEvery: 5,
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Merges `overrides` into the defaults and validates every field, naming it in the error (`attack.steps`). */
export function resolvePretrainConfig(overrides: DeepPartial<PretrainConfig> = {}): PretrainConfig {
  const c: PretrainConfig = {
    ...DEFAULT_PRETRAIN_CONFIG,
    ...overrides,
    optimizer: { ...DEFAULT_PRETRAIN_CONFIG.optimizer, ...overrides.optimizer },
    attack: { ...DEFAULT_PRETRAIN_CONFIG.attack, ...overrides.attack },
    checkpoint: { ...DEFAULT_PRETRAIN_CONFIG.checkpoint, ...overrides.checkpoint },
    knn: { ...DEFAULT_PRETRAIN_CONFIG.knn, ...overrides.knn },
  } as PretrainConfig;
  const integer = (name: string, v: number, min: number) => {
    if (!(Number.isInteger(v) && v >= min))
      throw new InvalidArgumentError({ argument: name, expected: `an integer ≥ ${min}`, received: v });
  };
  const number = (name: string, v: number, min: number, max = Infinity) => {
    if (!(Number.isFinite(v) && v >= min && v <= max))
      throw new InvalidArgumentError({ argument: name, expected: `a number in [${min}, ${max}]`, received: v });
  };
  const oneOf = (name: string, v: unknown, options: readonly unknown[]) => {
    if (!options.includes(v))
      throw new InvalidArgumentError({ argument: name, expected: `one of ${options.join(', ')}`, received: v });
  };
  integer('seed', c.seed, 0);
  integer('epochs', c.epochs, 1);
  integer('batchSize', c.batchSize, 1);
  number('optimizer.learningRate', c.optimizer.learningRate, 0);
  number('optimizer.momentum', c.optimizer.momentum, 0, 1);
  number('optimizer.weightDecay', c.optimizer.weightDecay, 0);
  oneOf('optimizer.schedule', c.optimizer.schedule, PRETRAIN_SCHEDULES);
  integer('optimizer.warmupEpochs', c.optimizer.warmupEpochs, 0);
  oneOf('attack.kind', c.attack.kind, PRETRAIN_ATTACK_KINDS);
  validateEpsilon(c.attack.epsilon, { argument: 'attack.epsilon' });
  validateStepSize(c.attack.stepSize, { argument: 'attack.stepSize' });
  validateSteps(c.attack.steps, { argument: 'attack.steps', minimum: 1 });
  oneOf('attack.batchNorm', c.attack.batchNorm, ATTACK_BATCH_NORM_MODES);
  if (c.combine !== undefined) oneOf('combine', c.combine, PRETRAIN_COMBINES);
  integer('checkpoint.everySteps', c.checkpoint.everySteps, 0);
  integer('checkpoint.everyEpochs', c.checkpoint.everyEpochs, 0);
  integer('checkpoint.keep', c.checkpoint.keep, 1);
  integer('knn.everyEpochs', c.knn.everyEpochs, 0);
  integer('knn.k', c.knn.k, 1);
  number('knn.temperature', c.knn.temperature, 1e-6);
  integer('logEvery', c.logEvery, 1);
  return c;
}
