// Flag choices and defaults the command table needs. This file imports nothing: `--help` and argument errors must not
// load tfjs, and every @moco-robust library loads it on import. The lists the CLI owns are defined here; the three
// that mirror a library constant are pinned to it by test/command-table.test.ts.

/** Size presets (`--preset`): a run's scale. */
export const PRESETS = ['tiny', 'demo', 'study', 'full'] as const;

/** Protocols (`--protocol`): the community's or the paper's settings. */
export const PROTOCOLS = ['standard', 'paper'] as const;

/** Label-free pre-training attacks a grid cell can use. */
export const GRID_ATTACKS = ['moco-pgd', 'moco-fgsm', 'none'] as const;

/** AutoAttack versions of `grid --autoattack` and `eval --autoattack` (cpu: APGD-CE + APGD-T). */
export const AUTOATTACK_VERSIONS = ['standard', 'cpu'] as const;

/** `--backend` choices: @moco-robust/core's `BACKEND_NAMES`, fastest first. */
export const BACKEND_CHOICES = ['node-gpu', 'node', 'wasm', 'cpu'] as const;

/** The 19 corruptions of @moco-robust/data's `ALL_CORRUPTIONS`, in its order. */
export const CORRUPTION_NAMES = [
  'gaussian_noise',
  'shot_noise',
  'impulse_noise',
  'defocus_blur',
  'glass_blur',
  'motion_blur',
  'zoom_blur',
  'snow',
  'frost',
  'fog',
  'brightness',
  'contrast',
  'elastic_transform',
  'pixelate',
  'jpeg_compression',
  'speckle_noise',
  'gaussian_blur',
  'spatter',
  'saturate',
] as const;

/** `attack`'s defaults as flag text: @moco-robust/attacks' `ATTACK_DEFAULTS` written as `fraction255` writes them. */
export const ATTACK_FLAG_DEFAULTS = { epsilon: '8/255', stepSize: '2/255', steps: '10' } as const;
