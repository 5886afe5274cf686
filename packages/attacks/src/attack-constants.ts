// Imports nothing: the values are read by tools that must not load tfjs (@moco-robust/attacks/constants).

/**
 * ε of every L∞ attack, in [0, 1] pixel units: 8/255 — pre-training, fine-tuning and PGD evaluation under both
 * protocols, FGSM evaluation under `standard` (docs/protocol.md, "Pre-training", "Fine-tuning", "Evaluation").
 */
export const DEFAULT_EPSILON = 8 / 255;

/**
 * The community's PGD step α (Madry et al.; Chen et al.): 2/255 — the attacks' default, pre-training and
 * fine-tuning under `standard`, evaluation PGD under both protocols (docs/protocol.md, "Pre-training", "Evaluation").
 */
export const STANDARD_STEP_SIZE = 2 / 255;

/**
 * The paper's attack step α: 8/255, for MoCo-PGD pre-training and, "the same as the pre-training phase", fine-tuning
 * under `paper` (docs/protocol.md, "Pre-training", "Fine-tuning").
 */
export const PAPER_STEP_SIZE = 8 / 255;

/** The paper's FGSM evaluation ε (= its step): 10/255 (docs/protocol.md, "Evaluation"). */
export const PAPER_FGSM_EPSILON = 10 / 255;

/**
 * Defaults of the settings every PGD-style attack shares (`AttackOptions`): ε 8/255, step 2/255, 10 steps, a random
 * start, 1 restart, L∞ (docs/protocol.md, "Pre-training"). FGSM uses one step of size ε and no random start.
 */
export const ATTACK_DEFAULTS = {
  epsilon: DEFAULT_EPSILON,
  stepSize: STANDARD_STEP_SIZE,
  steps: 10,
  randomStart: true,
  restarts: 1,
  norm: 'linf',
} as const satisfies {
  epsilon: number;
  stepSize: number;
  steps: number;
  randomStart: boolean;
  restarts: number;
  norm: 'linf' | 'l2';
};

/** The attacks of AutoAttack's cascade. */
export type AutoAttackName = 'apgd-ce' | 'apgd-t' | 'fab-t' | 'square';

/**
 * AutoAttack's versions: `standard` (Croce & Hein 2020, what RobustBench reports) and `cpu`, the
 * documented cheaper subset APGD-CE + APGD-T (the two gradient attacks that break almost every
 * point the full version breaks, without Square's thousands of queries).
 */
export const AUTOATTACK_VERSIONS: Readonly<Record<'standard' | 'cpu', readonly AutoAttackName[]>> = {
  standard: ['apgd-ce', 'apgd-t', 'fab-t', 'square'],
  cpu: ['apgd-ce', 'apgd-t'],
};
