// @moco-robust/core — browser-safe entry (the `node` export condition adds file-system helpers: see index.node.ts).

// Errors: one base class (identity survives duplicate installs) and a subclass per kind of failure
export { MocoRobustError } from './errors/moco-robust-error';
export { AbortedError, BackendUnavailableError, CheckpointError, DataFormatError } from './errors/errors';
export { DownloadError, FileSystemError, InvalidArgumentError, NonFiniteError, PluginError } from './errors/errors';
export { UnsupportedEnvironmentError, describeValue } from './errors/errors';

// Backends: pick the fastest tfjs backend that loads, and say why the others failed
export { BACKEND_NAMES, BROWSER_BACKEND_NAMES, selectBackend } from './backend/select-backend';
export type { BackendAttempt, BackendName, BackendSelection, SelectBackendOptions } from './backend/select-backend';
export type { BackendSelectedEvent } from './backend/select-backend';

// Images (NHWC float32 in [0, 1]) and labels (int32 [N])
export { assertImages, assertLabels, imagesFromUint8 } from './tensor/images';
export type { AssertImagesOptions } from './tensor/images';
export { assertGradientsRegistered } from './tensor/gradients';
export { withConstantWeights } from './backend/constant-weights';
export { releaseGradientMemory } from './backend/release-gradient-memory';

// Seeded randomness
export { Rng, toRng } from './random/rng';
export type { RngState } from './random/rng';

// Typed events
export { emit } from './events/events';
export type { EventListener, MocoRobustEvent } from './events/events';

// Losses
export { accuracy, crossEntropy } from './losses/cross-entropy';
export { infoNce, l2Normalize, ntXent } from './losses/info-nce';

// SGD with weight decay, learning-rate schedules
export { Sgd } from './optim/sgd';
export type { SgdOptions } from './optim/sgd';
export { constantSchedule, cosineSchedule, stepSchedule } from './optim/lr-schedule';
export type { CosineScheduleOptions, LrSchedule } from './optim/lr-schedule';

// The training loop and its checkpoints (what moco's and eval's trainers are built from)
export { trainingLoop } from './training/training-loop';
export type { CheckpointReason, TrainingLoopEvent } from './training/training-loop';
export type { TrainingLoopOptions, TrainingLoopResult } from './training/training-loop';
export type { RunOptions } from './checkpoint/run-options';
export { memoryCheckpointStore } from './checkpoint/checkpoint-store';
export type { CheckpointFiles, CheckpointStore, StoredCheckpoint } from './checkpoint/checkpoint-store';
export { modelFiles, restoreModelWeights } from './checkpoint/model-files';
export type { SaveableModel } from './checkpoint/model-files';
export { optimizerFiles, restoreOptimizer } from './checkpoint/optimizer-files';
export { decodeTensorArchive, encodeTensorArchive } from './checkpoint/tensor-archive';
export type { TensorArchiveEntry, TensorArchiveSpec } from './checkpoint/tensor-archive';

// The PretextTaskV1 plugin contract
export { isPretextTaskV1 } from './pretext/pretext-task';
export type { JsonValue, ModelLike, PretextAttackSettings, PretextBatch, PretextContext } from './pretext/pretext-task';
export type { PretextEncoder, PretextHeads, PretextTargets } from './pretext/pretext-task';
export type { PretextTaskFactory, PretextTaskV1 } from './pretext/pretext-task';
