// @moco-robust/pretext-rocl — RoCL (instance-wise attack + contrastive loss) as a PretextTaskV1 plugin for
// @moco-robust/moco.
import type { PretextTaskFactory } from '@moco-robust/core';
import { roclTask, type RoclTaskOptions } from './rocl-task';

// The task with its own instance-wise attack and augmentation
export { ROCL_ATTACK, ROCL_AUGMENTATION, roclTask } from './rocl-task';
export type { RoclTask, RoclTaskOptions, TwoViews } from './rocl-task';

// The multi-view NT-Xent loss and instance accuracy
export { instanceAccuracy, multiViewNtXent } from './multi-view-nt-xent';

/** The plugin factory (`--method rocl`): `(options?) => PretextTaskV1`. */
export default roclTask satisfies PretextTaskFactory<RoclTaskOptions>;
