import { PRESETS, PROTOCOLS } from './flags/choices';
import { DEFAULT_EPSILON, PAPER_FGSM_EPSILON, PAPER_STEP_SIZE, STANDARD_STEP_SIZE } from '@moco-robust/attacks';

/** Size presets (`--preset`) × protocols (`--protocol`): a run's scale and the paper's or the community's settings. */
export { PRESETS, PROTOCOLS }; // defined in flags/choices.ts, which `--help` loads without tfjs
export type PresetName = (typeof PRESETS)[number];
export type ProtocolName = (typeof PROTOCOLS)[number];

/** The resolved settings of a pipeline run; saved as `config.json` in the run directory. */
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
  /** `method`: moco-v1, moco-v2 or a plugin name (`rotation` loads @moco-robust/pretext-rotation). */
  pretrain: {
    method: string;
    attack: 'moco-pgd' | 'moco-fgsm' | 'none';
    epochs: number;
    batchSize: number;
    learningRate: number;
    weightDecay: number;
    epsilon: number;
    stepSize: number;
    steps: number;
    queueSize: number;
    /** InfoNCE temperature of training and of the attack; unless set, the method's own (v1 0.1, v2 0.2). */
    temperature: number;
    /**
     * The training loss: `adversarial` (the paper's MoCo), `mean` of the clean and adversarial losses (Chen et al.'s
     * baselines) or `task`, the method's own choice.
     */
    combine: 'task' | 'adversarial' | 'mean';
    checkpointEverySteps: number;
    /** Checkpoints kept, the newest ones (an integer ≥ 1); absent: the library's 3. */
    checkpointKeep?: number;
  };
  finetune: {
    mode: 'linear' | 'partial' | 'full';
    frozenStages: number;
    loss: 'standard' | 'adversarial' | 'mixed' | 'trades';
    epochs: number;
    batchSize: number;
    learningRate: number;
    weightDecay: number;
    epsilon: number;
    stepSize: number;
    steps: number;
    validationImages: number;
    /** Checkpoint every this many steps besides every epoch (0: per epoch only). */
    checkpointEverySteps: number;
    /** Checkpoints kept, the newest ones (an integer ≥ 1); absent: the library's 3. */
    checkpointKeep?: number;
  };
  /**
   * `cifar10c`: evaluate CIFAR-10-C (official arrays with --cifar10c, else generated from `cifar10cImages` test
   * images).
   */
  eval: {
    fgsmEpsilon: number;
    pgdEpsilon: number;
    pgdStepSize: number;
    pgdSteps: number;
    pgdRestarts: number;
    cifar10c: boolean;
    cifar10cImages: number;
    /** AutoAttack version evaluated besides clean / FGSM / PGD (`cpu`: APGD-CE + APGD-T); absent: not run. */
    autoAttack?: 'standard' | 'cpu';
    /** APGD iterations of that AutoAttack; absent: AutoAttack's 100. */
    autoAttackSteps?: number;
  };
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

/** Settings whose default depends on `pretrain.method` (MoCo's CIFAR-10 demo: temperature 0.1 for v1, 0.2 for v2). */
export const METHOD_DEFAULTS: Record<string, { temperature: number }> = {
  'moco-v1': { temperature: 0.1 },
  'moco-v2': { temperature: 0.2 },
};

/**
 * `config` with the defaults of its `pretrain.method` filled in wherever none of `overrides` (config file, flags) set
 * them: `--method moco-v1` trains and attacks at v1's temperature 0.1, not the preset's v2 value.
 */
export function withMethodDefaults(config: RunConfig, overrides: ReadonlyArray<Record<string, unknown>>): RunConfig {
  const defaults = METHOD_DEFAULTS[config.pretrain.method];
  if (!defaults) return config;
  const pretrain = { ...config.pretrain };
  for (const [key, value] of Object.entries(defaults) as Array<[keyof typeof defaults, number]>) {
    const set = overrides.some((o) => Object.hasOwn((o.pretrain ?? {}) as object, key));
    if (!set) pretrain[key] = value;
  }
  return { ...config, pretrain };
}

/**
 * The run settings of a preset and protocol (`tiny`/`demo` default to `standard`). Every value the paper sets is
 * quoted, with its reading under each protocol, in docs/protocol.md; the sizes (`tiny`, `demo`) only shrink data,
 * model, epochs and pre-/fine-tuning attack steps. Evaluation PGD is PGD-20, ε 8/255, α 2/255, one random start under
 * both protocols (docs/protocol.md, "Evaluation").
 */
export function resolveRunConfig(preset: PresetName, protocol: ProtocolName, seed: number): RunConfig {
  const size = SIZES[preset];
  const paper = protocol === 'paper';
  return {
    preset,
    protocol,
    seed,
    data: size.data,
    model: size.model,
    pretrain: {
      method: 'moco-v2',
      attack: 'moco-pgd',
      epochs: size.pretrainEpochs,
      batchSize: size.batchSize,
      learningRate: 0.06,
      weightDecay: 5e-4,
      epsilon: DEFAULT_EPSILON,
      stepSize: paper ? PAPER_STEP_SIZE : STANDARD_STEP_SIZE,
      steps: preset === 'full' ? 10 : size.attackSteps,
      queueSize: size.queueSize,
      temperature: METHOD_DEFAULTS['moco-v2'].temperature,
      combine: 'task',
      checkpointEverySteps: 0,
    },
    finetune: {
      mode: 'full',
      frozenStages: 0,
      loss: paper ? 'mixed' : 'adversarial',
      epochs: size.finetuneEpochs,
      batchSize: size.batchSize,
      learningRate: preset === 'full' ? 0.1 : 0.05,
      weightDecay: paper ? 3e-4 : 2e-4,
      epsilon: DEFAULT_EPSILON,
      // paper: PGD-20 with the pre-training step 8/255; standard: PGD-10 with 2/255 (docs/protocol.md, "Fine-tuning")
      stepSize: paper ? PAPER_STEP_SIZE : STANDARD_STEP_SIZE,
      steps: preset === 'full' ? (paper ? 20 : 10) : size.attackSteps,
      validationImages: preset === 'full' ? 1000 : Math.min(500, Math.floor(size.data.trainImages / 10)),
      checkpointEverySteps: 0,
    },
    eval: {
      fgsmEpsilon: paper ? PAPER_FGSM_EPSILON : DEFAULT_EPSILON,
      pgdEpsilon: DEFAULT_EPSILON,
      // both protocols: the paper gives no evaluation step; the numbers its Table 1 quotes were measured with 2/255
      pgdStepSize: STANDARD_STEP_SIZE,
      pgdSteps: size.evalSteps,
      pgdRestarts: 1,
      cifar10c: true,
      cifar10cImages: size.cifar10cImages,
    },
  };
}
