// @moco-robust/core — Node entry: everything of the browser entry plus file-system helpers.
export * from './index';
// In Node, selectBackend also starts wasm's threads (it shadows the browser entry's).
export { selectBackend } from './node/select-backend-node';
export { atomicWriteFile } from './node/atomic-write';
export {
  CHECKPOINT_WRITE_STAGES,
  fileCheckpointStore,
  latestCheckpoint,
  openCheckpoint,
  pruneCheckpoints,
  readCheckpointFile,
  readCheckpointManifest,
  removeStaleCheckpointFiles,
  writeCheckpoint,
} from './node/checkpoint-store';
export type { CheckpointManifest, CheckpointStageHook, CheckpointWriteStage } from './node/checkpoint-store';
export { buildNativeBackend, NATIVE_LIBRARY_LINKS } from './node/build-native-backend';
export type { BuildNativeBackendOptions, NativeBuildEvent, NativeBuildResult } from './node/build-native-backend';
