export { pgd, pgdWithLoss } from './pgd';
export type { PerExampleLoss } from './pgd';
export { fgsm } from './fgsm';
export { labelLoss, supervisedPgd } from './supervised-pgd';
export type { LabelAttackOptions } from './supervised-pgd';
export { mocoFgsm, mocoLoss, mocoPgd } from './moco-pgd';
export type { MocoObjective } from './moco-pgd';
export { instancePgd } from './instance-pgd';
export type { InstanceObjective } from './instance-pgd';
export { resolveAttackOptions } from './attack-options';
export {
  ATTACK_DEFAULTS,
  DEFAULT_EPSILON,
  PAPER_FGSM_EPSILON,
  PAPER_STEP_SIZE,
  STANDARD_STEP_SIZE,
  validateEpsilon,
  validateRandomStart,
  validateRestarts,
  validateStepSize,
  validateSteps,
} from './attack-settings';
export type { SettingCheck } from './attack-settings';
export type { AttackOptions, ResolvedAttackOptions } from './attack-options';
export { ascentDirection, project, randomStart } from './projection';
export { toForward } from './model-forward';
export {
  checkAttackInputs,
  checkImages,
  checkLabelValues,
  modelOutputWidth,
  PIXEL_RANGE_TOLERANCE,
} from './input-checks';
export type { AttackInputChecks } from './input-checks';
export type { ModelLikeForward } from './model-forward';
export { dlrLoss, targetedDlrLoss } from './dlr-loss';
export { apgd, apgdCheckpoints, apgdWithDetails } from './apgd';
export type { ApgdObjective, ApgdOptions, ApgdResult } from './apgd';
export { apgdLabelObjective, supervisedApgd } from './supervised-apgd';
export type { SupervisedApgdOptions } from './supervised-apgd';
export { apgdTargeted } from './apgd-targeted';
export type { ApgdTargetedOptions } from './apgd-targeted';
export { square, squareFraction } from './square';
export type { SquareOptions, SquareResult } from './square';
export { fabTargeted, linfHyperplaneBoxProjection } from './fab';
export type { FabOptions, FabResult } from './fab';
export { mocoApgd } from './moco-apgd';
export { AUTOATTACK_VERSIONS, autoAttack } from './auto-attack';
export type {
  AutoAttackEvent,
  AutoAttackName,
  AutoAttackOptions,
  AutoAttackResult,
  AutoAttackStage,
} from './auto-attack';
