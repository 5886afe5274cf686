import { PRESETS, PROTOCOLS } from './flags/choices';
import {
  PAPER_FINETUNE,
  PAPER_ROBUSTNESS,
  STANDARD_FINETUNE,
  STANDARD_ROBUSTNESS,
  type FinetuneConfig,
  type RobustnessSettings,
} from '@moco-robust/eval';
import {
  DEFAULT_PRETRAIN_CONFIG,
  PAPER_PRETRAIN,
  PRETRAIN_ATTACK_KINDS,
  PRETRAIN_ATTACK_NAMES,
  type PretrainAttackKind,
  type PretrainConfig,
} from '@moco-robust/moco';
import { UsageError } from './usage-error';

/** Size presets (`--preset`) × protocols (`--protocol`): a run's scale and the paper's or the community's settings. */
export { PRESETS, PROTOCOLS }; // defined in flags/choices.ts, which `--help` loads without tfjs
export type PresetName = (typeof PRESETS)[number];
export type ProtocolName = (typeof PROTOCOLS)[number];

/**
 * The `pretrain` section: the moco library's {@link PretrainConfig} as is (the seed is the run's) plus what only the
 * CLI reads — the method and the MoCo task's queue and temperature, and `combine: 'task'` (the method's own loss).
 */
export type PretrainSettings = Omit<PretrainConfig, 'seed' | 'combine'> & {
  /** moco-v1, moco-v2 or a plugin name (`rotation` loads @moco-robust/pretext-rotation). */
  method: string;
  /** InfoNCE temperature of training and of the attack; unless set, the method's own (v1 0.1, v2 0.2). */
  temperature: number;
  /** MoCo's queue of negatives (a multiple of `batchSize`). */
  queueSize: number;
  /**
   * The training loss: `adversarial` (the paper's MoCo), `mean` of the clean and adversarial losses (Chen et al.'s
   * baselines) or `task`, the method's own choice.
   */
  combine: 'task' | NonNullable<PretrainConfig['combine']>;
};

/** The `finetune` section: the eval library's {@link FinetuneConfig} as is (the seed is the run's). */
export type FinetuneSettings = Omit<FinetuneConfig, 'seed'>;

/**
 * The `eval` section: the eval library's {@link RobustnessSettings} as is (the seed is the run's) plus CIFAR-10-C:
 * `cifar10c` evaluates it (official arrays with --cifar10c, else generated from `cifar10cImages` test images).
 */
export type EvalSettings = Omit<RobustnessSettings, 'seed'> & { cifar10c: boolean; cifar10cImages: number };

/**
 * The resolved settings of a pipeline run; saved as `config.json` in the run directory. Its `pretrain`, `finetune` and
 * `eval` sections are the libraries' config types with their names, units and defaults (docs/cli.md, "Settings").
 */
export interface RunConfig {
  preset: PresetName;
  protocol: ProtocolName;
  seed: number;
  backend?: string;
  /** `finetune`'s encoder source (`--from`), kept so `--resume` reloads it. */
  from?: string;
  /** Images used (the first ones of each split; fewer when the data holds fewer). */
  data: { trainImages: number; testImages: number };
  /** Encoder architecture preset and split batch-norm groups (shuffle-BN's single-device substitute). */
  model: { architecture: string; batchNormGroups: number };
  pretrain: PretrainSettings;
  finetune: FinetuneSettings;
  eval: EvalSettings;
}

/**
 * The paper's names of the pre-training attacks (`--attack`, grid specs and cell names, reports): `moco-pgd`,
 * `moco-fgsm`, `none` — the moco library's {@link PRETRAIN_ATTACK_NAMES}.
 */
export const PRETRAIN_ATTACKS = PRETRAIN_ATTACK_KINDS.map((kind) => PRETRAIN_ATTACK_NAMES[kind]);

/**
 * The `pretrain.attack.kind` of a pre-training attack named as the paper does (`moco-pgd` → `pgd`) or by its kind:
 * the one place the CLI turns `--attack` and grid names into the saved value.
 */
export function pretrainAttackKind(name: string): PretrainAttackKind {
  const kind = PRETRAIN_ATTACK_KINDS.find((k) => k === name || PRETRAIN_ATTACK_NAMES[k] === name);
  if (kind === undefined)
    throw new UsageError(
      `pre-training attack must be one of ${PRETRAIN_ATTACKS.join(', ')} (or ${PRETRAIN_ATTACK_KINDS.join(', ')}); ` +
        `got '${name}'`,
    );
  return kind;
}

/** The moco library's `pretrain()` config of a run: its `pretrain` section without the CLI's fields, and its seed. */
export function pretrainSettings(config: Pick<RunConfig, 'pretrain' | 'seed'>): PretrainConfig {
  const { method: _method, temperature: _temperature, queueSize: _queueSize, combine, ...library } = config.pretrain;
  return { ...library, seed: config.seed, ...(combine === 'task' ? {} : { combine }) };
}

/** The eval library's `finetune()` config of a run: its `finetune` section and its seed. */
export function finetuneSettings(config: Pick<RunConfig, 'finetune' | 'seed'>): FinetuneConfig {
  return { ...config.finetune, seed: config.seed };
}

/** The eval library's `evaluateRobustness()` settings of a run: its `eval` section without CIFAR-10-C, and its seed. */
export function robustnessSettings(config: Pick<RunConfig, 'eval' | 'seed'>): RobustnessSettings {
  const { cifar10c: _cifar10c, cifar10cImages: _cifar10cImages, ...library } = config.eval;
  return { ...library, seed: config.seed };
}

const SIZES: Record<
  PresetName,
  Pick<RunConfig, 'data' | 'model'> & {
    pretrainEpochs: number;
    finetuneEpochs: number;
    batchSize: number;
    queueSize: number;
    attackSteps: number;
    evalSteps: number;
    cifar10cImages: number;
  }
> = {
  tiny: {
    data: { trainImages: 256, testImages: 128 },
    model: { architecture: 'resnet6-w8', batchNormGroups: 2 },
    pretrainEpochs: 1,
    finetuneEpochs: 2,
    batchSize: 32,
    queueSize: 256,
    attackSteps: 2,
    evalSteps: 5,
    cifar10cImages: 32,
  },
  demo: {
    data: { trainImages: 5085, testImages: 512 },
    model: { architecture: 'resnet10-w16', batchNormGroups: 8 },
    pretrainEpochs: 4,
    finetuneEpochs: 4,
    batchSize: 64,
    queueSize: 1024,
    attackSteps: 3,
    evalSteps: 20,
    cifar10cImages: 512,
  },
  // `grid --preset study`: the whole Table 1 grid (42 cells) in about two hours on a quiet 2-core CPU, sized from
  // measured steps (docs/grid.md, "--preset study"); every method gets this same budget
  study: {
    data: { trainImages: 3072, testImages: 512 },
    model: { architecture: 'resnet8-w16', batchNormGroups: 8 },
    pretrainEpochs: 1,
    finetuneEpochs: 2,
    batchSize: 64,
    queueSize: 1024,
    attackSteps: 3,
    evalSteps: 20,
    cifar10cImages: 64,
  },
  full: {
    data: { trainImages: 50000, testImages: 10000 },
    model: { architecture: 'resnet18', batchNormGroups: 8 },
    pretrainEpochs: 200,
    finetuneEpochs: 50,
    batchSize: 128,
    queueSize: 4096,
    attackSteps: 10,
    evalSteps: 20,
    cifar10cImages: 10000,
  },
};

/** The CLI reads the loss back every 5 steps in pre-training and fine-tuning (`logEvery`: a host sync each time). */
const LOG_EVERY = 5;

/** Fine-tuning's validation PGD steps for `steps` training attack steps: twice as many, at most 10 (at least 1). */
export function validationPgdSteps(steps: number): number {
  return Math.min(10, Math.max(1, steps * 2));
}

/** Settings whose default depends on `pretrain.method` (MoCo's CIFAR-10 demo: temperature 0.1 for v1, 0.2 for v2). */
export const METHOD_DEFAULTS: Record<string, { temperature: number }> = {
  'moco-v1': { temperature: 0.1 },
  'moco-v2': { temperature: 0.2 },
};

/**
 * `config` with the defaults that follow other settings filled in wherever none of `overrides` (config file, flags)
 * set them: the temperature of `pretrain.method` (`--method moco-v1` trains and attacks at v1's 0.1, not the preset's
 * v2 value) and `finetune.validationPgdSteps` from `finetune.attack.steps` ({@link validationPgdSteps}).
 */
export function withDerivedDefaults(config: RunConfig, overrides: ReadonlyArray<Record<string, unknown>>): RunConfig {
  const sets = (section: string, key: string) =>
    overrides.some((o) => Object.hasOwn((o[section] ?? {}) as object, key));
  const pretrain = { ...config.pretrain };
  const defaults = METHOD_DEFAULTS[config.pretrain.method];
  if (defaults && !sets('pretrain', 'temperature')) pretrain.temperature = defaults.temperature;
  const finetune = { ...config.finetune };
  if (!sets('finetune', 'validationPgdSteps')) finetune.validationPgdSteps = validationPgdSteps(finetune.attack.steps);
  return { ...config, pretrain, finetune };
}

/**
 * The run settings of a preset and protocol (`tiny`/`demo` default to `standard`): the libraries' presets of the
 * protocol — {@link PAPER_PRETRAIN} / {@link DEFAULT_PRETRAIN_CONFIG}, {@link PAPER_FINETUNE} /
 * {@link STANDARD_FINETUNE}, {@link PAPER_ROBUSTNESS} / {@link STANDARD_ROBUSTNESS} — with the preset's sizes (data,
 * model, epochs, batch, queue, attack and evaluation steps, CIFAR-10-C images, validation images, a smaller fine-tuning
 * rate below `full`), a cosine fine-tuning schedule and progress every 5 steps. Every value the paper sets is quoted,
 * with its reading under each protocol, in docs/protocol.md.
 */
export function resolveRunConfig(preset: PresetName, protocol: ProtocolName, seed: number): RunConfig {
  const size = SIZES[preset];
  const paper = protocol === 'paper';
  const { seed: _p, ...pretrain } = structuredClone(paper ? PAPER_PRETRAIN : DEFAULT_PRETRAIN_CONFIG);
  const { seed: _f, ...finetune } = structuredClone(paper ? PAPER_FINETUNE : STANDARD_FINETUNE);
  const { seed: _e, ...evaluation } = structuredClone(paper ? PAPER_ROBUSTNESS : STANDARD_ROBUSTNESS);
  const full = preset === 'full';
  // `full` fine-tunes with the protocol's PGD (paper: PGD-20, step 8/255; standard: PGD-10, 2/255), smaller presets
  // with their own few steps (docs/protocol.md, "Fine-tuning")
  const finetuneSteps = full ? finetune.attack.steps : size.attackSteps;
  return {
    preset,
    protocol,
    seed,
    data: { ...size.data },
    model: { ...size.model },
    pretrain: {
      method: 'moco-v2',
      temperature: METHOD_DEFAULTS['moco-v2'].temperature,
      queueSize: size.queueSize,
      combine: 'task',
      ...pretrain,
      epochs: size.pretrainEpochs,
      batchSize: size.batchSize,
      attack: { ...pretrain.attack, steps: size.attackSteps },
      logEvery: LOG_EVERY,
    },
    finetune: {
      ...finetune,
      epochs: size.finetuneEpochs,
      batchSize: size.batchSize,
      attack: { ...finetune.attack, steps: finetuneSteps },
      optimizer: {
        ...finetune.optimizer,
        learningRate: full ? finetune.optimizer.learningRate : 0.05,
        schedule: 'cosine',
      },
      validationSize: full ? finetune.validationSize : Math.min(500, Math.floor(size.data.trainImages / 10)),
      validationPgdSteps: validationPgdSteps(finetuneSteps),
      checkpointEverySteps: 0,
      logEvery: LOG_EVERY,
    },
    // evaluation: PGD-20, ε 8/255, α 2/255, one random start under both protocols (docs/protocol.md, "Evaluation")
    eval: { ...evaluation, pgdSteps: size.evalSteps, cifar10c: true, cifar10cImages: size.cifar10cImages },
  };
}
