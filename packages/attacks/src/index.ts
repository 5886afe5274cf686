// @moco-robust/attacks — adversarial examples against any tfjs model; images NHWC in [0, 1], ε in pixel units.

// The attack core: PGD (L∞ or L2) maximising any per-example loss, with random start, restarts and early stop
export { pgd } from './pgd';
export type { PerExampleLoss } from './pgd';
export { resolveAttackOptions } from './attack-options';
export type { AttackOptions, ResolvedAttackOptions } from './attack-options';

// With labels: FGSM and PGD on the cross-entropy of a classifier
export { fgsm } from './fgsm';
export { supervisedPgd } from './supervised-pgd';
export type { LabelAttackOptions } from './supervised-pgd';

// Label-free: MoCo-FGSM / MoCo-PGD / MoCo-APGD on the InfoNCE loss, RoCL's instance-wise PGD
export { mocoApgd } from './moco-apgd';
export { mocoFgsm, mocoLoss, mocoPgd } from './moco-pgd';
export type { MocoObjective } from './moco-pgd';
export { instancePgd } from './instance-pgd';
export type { InstanceObjective } from './instance-pgd';

// AutoAttack (APGD-CE, APGD-T, FAB-T, Square) and its attacks
export { AUTOATTACK_VERSIONS, autoAttack } from './auto-attack';
export type { AutoAttackEvent, AutoAttackName, AutoAttackOptions, AutoAttackResult } from './auto-attack';
export type { AutoAttackStage } from './auto-attack';
export { apgd } from './apgd';
export type { ApgdObjective, ApgdOptions } from './apgd';
export { supervisedApgd } from './supervised-apgd';
export type { SupervisedApgdOptions } from './supervised-apgd';
export { apgdTargeted } from './apgd-targeted';
export type { ApgdTargetedOptions } from './apgd-targeted';
export { fabTargeted } from './fab';
export type { FabOptions, FabResult } from './fab';
export { square } from './square';
export type { SquareOptions, SquareResult } from './square';
export { dlrLoss, targetedDlrLoss } from './dlr-loss';

// Settings: one default and one validator per attack setting (the CLI, moco and eval use these)
export { ATTACK_DEFAULTS, DEFAULT_EPSILON, PAPER_FGSM_EPSILON } from './attack-settings';
export { PAPER_STEP_SIZE, STANDARD_STEP_SIZE } from './attack-settings';
export { validateEpsilon, validateRandomStart, validateRestarts } from './attack-settings';
export { validateStepSize, validateSteps } from './attack-settings';
export type { SettingCheck } from './attack-settings';

// Models: any callable or tfjs model as a forward function; label checks against the model's output width
export { toForward } from './model-forward';
export type { ModelLikeForward } from './model-forward';
export { checkLabelValues, modelOutputWidth } from './input-checks';
