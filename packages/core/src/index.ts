// @moco-robust/core — browser-safe entry (the `node` export condition adds file-system helpers: see index.node.ts).
export { MocoRobustError } from './errors/moco-robust-error';
export {
  AbortedError,
  BackendUnavailableError,
  CheckpointError,
  DataFormatError,
  DownloadError,
  FileSystemError,
  InvalidArgumentError,
  NonFiniteError,
  PluginError,
  UnsupportedEnvironmentError,
  describeValue,
} from './errors/errors';
export { Rng, isRng, toRng } from './random/rng';
export type { RngState } from './random/rng';
export { emit, fanOut } from './events/events';
export type { EventListener, MocoRobustEvent } from './events/events';
export { assertImages, assertLabels, imagesFromUint8 } from './tensor/images';
export { assertGradientsRegistered, registerGradients } from './tensor/gradients';
export { withConstantWeights } from './backend/conv2d-gradient';
export type { AssertImagesOptions } from './tensor/images';
export { accuracy, crossEntropy } from './losses/cross-entropy';
export { infoNce, infoNceLogits, l2Normalize, ntXent } from './losses/info-nce';
export { Sgd } from './optim/sgd';
export type { SgdOptions } from './optim/sgd';
export { constantSchedule, cosineSchedule, stepSchedule } from './optim/lr-schedule';
export type { CosineScheduleOptions, LrSchedule } from './optim/lr-schedule';
export { decodeTensorArchive, encodeTensorArchive } from './checkpoint/tensor-archive';
export { memoryCheckpointStore } from './checkpoint/checkpoint-store';
export { modelFiles, restoreModelWeights } from './checkpoint/model-files';
export { optimizerFiles, restoreOptimizer } from './checkpoint/optimizer-files';
export type { SaveableModel } from './checkpoint/model-files';
export type { CheckpointFiles, CheckpointStore, StoredCheckpoint } from './checkpoint/checkpoint-store';
export type { RunOptions } from './checkpoint/run-options';
export { trainingLoop } from './training/training-loop';
export type {
  CheckpointReason,
  TrainingLoopEvent,
  TrainingLoopOptions,
  TrainingLoopResult,
} from './training/training-loop';
export type { TensorArchiveEntry, TensorArchiveSpec } from './checkpoint/tensor-archive';
export { BACKEND_NAMES, BROWSER_BACKEND_NAMES, selectBackend } from './backend/select-backend';
export type {
  BackendAttempt,
  BackendName,
  BackendSelectedEvent,
  BackendSelection,
  SelectBackendOptions,
} from './backend/select-backend';
export { isPretextTaskV1 } from './pretext/pretext-task';
export type {
  JsonValue,
  ModelLike,
  PretextAttackSettings,
  PretextBatch,
  PretextContext,
  PretextEncoder,
  PretextHeads,
  PretextTargets,
  PretextTaskFactory,
  PretextTaskV1,
} from './pretext/pretext-task';
