// @moco-robust/attacks/constants — the attacks' defaults and names, importable without loading tfjs (a CLI's
// `--help`, a config validator). The main entry exports the same values, with their validators.
export {
  ATTACK_DEFAULTS,
  AUTOATTACK_VERSIONS,
  DEFAULT_EPSILON,
  PAPER_FGSM_EPSILON,
  PAPER_STEP_SIZE,
  STANDARD_STEP_SIZE,
} from './attack-constants';
export type { AutoAttackName } from './attack-constants';
