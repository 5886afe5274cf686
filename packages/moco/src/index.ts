// @moco-robust/moco — adversarial self-supervised pre-training: MoCo-v1/v2 built in, any PretextTaskV1 plugged in.

// Pre-training: one loop for every pretext task, with label-free attacks, checkpoints and resume
export { pretrain } from './pretrain';
export type { PretrainEvent, PretrainOptions, PretrainResult } from './pretrain';

// Settings and presets, and the choices each setting takes
export { CPU_PRETRAIN, DEFAULT_PRETRAIN_CONFIG, PAPER_PRETRAIN, resolvePretrainConfig } from './pretrain-config';
export { ATTACK_BATCH_NORM_MODES, PRETRAIN_ATTACK_KINDS, PRETRAIN_ATTACK_NAMES } from './pretrain-config';
export { PRETRAIN_COMBINES, PRETRAIN_SCHEDULES } from './pretrain-config';
export type { PretrainAttackKind, PretrainConfig } from './pretrain-config';

// MoCo as a PretextTaskV1 and its parts: queue of negatives, momentum (EMA) encoder, shuffle-BN
export { mocoTask } from './moco-task';
export type { MocoTaskOptions, ProjectionHeadFactory } from './moco-task';
export { Queue } from './queue';
export type { QueueOptions } from './queue';
export { emaUpdate } from './ema';
export { shuffledForward } from './shuffle-batch';

// The label-free attack objective (for MoCo-PGD outside the loop) and kNN monitoring
export { mocoObjective } from './moco-objective';
export type { MocoObjectiveOptions } from './moco-objective';
export { knnAccuracy } from './knn';
export type { KnnOptions } from './knn';
