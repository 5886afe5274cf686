// @moco-robust/pretext-rotation — rotation prediction as a PretextTaskV1 plugin for @moco-robust/moco.
import type { PretextTaskFactory } from '@moco-robust/core';
import { rotationTask, type RotationTaskOptions } from './rotation-task';

// The task: which of 4 rotations an image shows
export { rotationTask } from './rotation-task';
export type { RotationTaskOptions } from './rotation-task';

// Rotated batches and balanced labels
export { ROTATION_CLASSES, rotateBatch, rotateImages } from './rotate-images';
export { balancedRotationLabels } from './rotation-labels';

/** The plugin factory (`--method rotation`): `(options?) => PretextTaskV1`. */
export default rotationTask satisfies PretextTaskFactory<RotationTaskOptions>;
