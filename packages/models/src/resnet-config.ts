import { InvalidArgumentError } from '@moco-robust/core';

/** Architecture of a CIFAR ResNet (He et al., 2016, with the CIFAR stem: 3×3 stride-1 conv, no max-pool). */
export interface ResnetConfig {
  /** `basic` (two 3×3 convs, expansion 1: ResNet-18/34) or `bottleneck` (1×1, 3×3, 1×1, expansion 4: ResNet-50). */
  block: 'basic' | 'bottleneck';
  /** Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18; stage k > 1 starts with stride 2. */
  stages: number[];
  /** Width of the stem and of stage 1 (64 in the standard models); stage k has width·2^(k−1). */
  width: number;
  /**
   * Projection shortcut form: `subsample` (1×1 pool stride 2 then 1×1 conv stride 1, equal and safe on oneDNN) or
   * `strided` (1×1 conv stride 2).
   */
  shortcut: 'subsample' | 'strided';
  /** Zero-initialise the last batch-norm γ of every block (Goyal et al. 2017). */
  zeroInitLastBatchNorm: boolean;
}

/** Named architectures: the paper's ResNet-18/50 and small ones for CPU runs and tests. */
export const RESNET_PRESETS = {
  resnet18: { block: 'basic', stages: [2, 2, 2, 2], width: 64 },
  resnet34: { block: 'basic', stages: [3, 4, 6, 3], width: 64 },
  resnet50: { block: 'bottleneck', stages: [3, 4, 6, 3], width: 64 },
  'resnet10-w32': { block: 'basic', stages: [1, 1, 1, 1], width: 32 },
  'resnet10-w16': { block: 'basic', stages: [1, 1, 1, 1], width: 16 },
  'resnet8-w16': { block: 'basic', stages: [1, 1, 1], width: 16 },
  'resnet6-w8': { block: 'basic', stages: [1, 1], width: 8 },
} as const satisfies Record<string, Pick<ResnetConfig, 'block' | 'stages' | 'width'>>;

/** Name of a {@link RESNET_PRESETS} entry. */
export type ResnetPreset = keyof typeof RESNET_PRESETS;

/**
 * Resolves a preset name or partial config (defaults: ResNet-18, subsample shortcut, no zero-init), validating every
 * field.
 */
export function resolveResnetConfig(architecture: ResnetPreset | Partial<ResnetConfig> = 'resnet18'): ResnetConfig {
  let base: Partial<ResnetConfig>;
  if (typeof architecture === 'string') {
    if (!(architecture in RESNET_PRESETS)) {
      throw new InvalidArgumentError({
        argument: 'architecture',
        expected: `one of ${Object.keys(RESNET_PRESETS).join(', ')} or a ResnetConfig`,
        received: architecture,
      });
    }
    base = { ...RESNET_PRESETS[architecture], stages: [...RESNET_PRESETS[architecture].stages] };
  } else {
    base = architecture;
  }
  const config: ResnetConfig = {
    block: 'basic',
    stages: [2, 2, 2, 2],
    width: 64,
    shortcut: 'subsample',
    zeroInitLastBatchNorm: false,
    ...base,
  };
  if (config.block !== 'basic' && config.block !== 'bottleneck')
    throw new InvalidArgumentError({
      argument: 'architecture.block',
      expected: "'basic' or 'bottleneck'",
      received: config.block,
    });
  if (
    !Array.isArray(config.stages) ||
    config.stages.length < 1 ||
    !config.stages.every((n) => Number.isInteger(n) && n > 0)
  ) {
    throw new InvalidArgumentError({
      argument: 'architecture.stages',
      expected: 'a non-empty array of positive block counts',
      received: config.stages,
    });
  }
  if (!(Number.isInteger(config.width) && config.width > 0))
    throw new InvalidArgumentError({
      argument: 'architecture.width',
      expected: 'a positive integer',
      received: config.width,
    });
  if (config.shortcut !== 'subsample' && config.shortcut !== 'strided')
    throw new InvalidArgumentError({
      argument: 'architecture.shortcut',
      expected: "'subsample' or 'strided'",
      received: config.shortcut,
    });
  return config;
}

/** Width of the encoder's feature vector: last stage width × expansion (512 for ResNet-18, 2048 for ResNet-50). */
export function featureWidth(config: ResnetConfig): number {
  return config.width * 2 ** (config.stages.length - 1) * (config.block === 'bottleneck' ? 4 : 1);
}
