// @moco-robust/core — Node entry: everything of the browser entry plus file-system helpers.
export * from './index';

// In Node, selectBackend also starts wasm's threads (it shadows the browser entry's)
export { selectBackend } from './node/select-backend-node';

// Checkpoint directories: <run>/checkpoints/<step>/ and a `latest` pointer, written atomically
export { atomicWriteFile } from './node/atomic-write';
export { CHECKPOINT_WRITE_STAGES, fileCheckpointStore, latestCheckpoint } from './node/checkpoint-store';
export { openCheckpoint, readCheckpointManifest, writeCheckpoint } from './node/checkpoint-store';
export type { CheckpointManifest, CheckpointStageHook, CheckpointWriteStage } from './node/checkpoint-store';

// Building the native tfjs backend from the TensorFlow wheel (`moco-robust backend build`)
export { buildNativeBackend } from './node/build-native-backend';
export type { BuildNativeBackendOptions, NativeBuildEvent, NativeBuildResult } from './node/build-native-backend';
