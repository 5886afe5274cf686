// Flag choices and defaults the command table needs. `--help` and argument errors must not load tfjs, so the
// libraries' lists come from their tfjs-free `/constants` entries; the lists the CLI owns are defined here.
import { AUTOATTACK_VERSIONS as LIBRARY_AUTOATTACK_VERSIONS, ATTACK_DEFAULTS } from '@moco-robust/attacks/constants';
import { BACKEND_NAMES } from '@moco-robust/core/constants';
import { ALL_CORRUPTIONS } from '@moco-robust/data/constants';

/** Size presets (`--preset`): a run's scale. */
export const PRESETS = ['tiny', 'demo', 'study', 'full'] as const;

/** Protocols (`--protocol`): the community's or the paper's settings. */
export const PROTOCOLS = ['standard', 'paper'] as const;

/** Label-free pre-training attacks a grid cell can use. */
export const GRID_ATTACKS = ['moco-pgd', 'moco-fgsm', 'none'] as const;

/** AutoAttack versions of `grid --autoattack` and `eval --autoattack` (cpu: APGD-CE + APGD-T). */
export const AUTOATTACK_VERSIONS = Object.keys(LIBRARY_AUTOATTACK_VERSIONS) as Array<
  keyof typeof LIBRARY_AUTOATTACK_VERSIONS
>;

/** `--backend` choices: @moco-robust/core's `BACKEND_NAMES`, fastest first. */
export const BACKEND_CHOICES = BACKEND_NAMES;

/** The 19 corruptions of @moco-robust/data's `ALL_CORRUPTIONS`, in its order. */
export const CORRUPTION_NAMES = ALL_CORRUPTIONS;

/** `attack`'s defaults as flag text: @moco-robust/attacks' `ATTACK_DEFAULTS`, ε and step as fractions of 255. */
export const ATTACK_FLAG_DEFAULTS = {
  epsilon: `${Math.round(ATTACK_DEFAULTS.epsilon * 255)}/255`,
  stepSize: `${Math.round(ATTACK_DEFAULTS.stepSize * 255)}/255`,
  steps: String(ATTACK_DEFAULTS.steps),
} as const;
