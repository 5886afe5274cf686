// @moco-robust/pretext-selfie — Selfie (masked-patch selection) as a PretextTaskV1 plugin for @moco-robust/moco.
import type { PretextTaskFactory } from '@moco-robust/core';
import { selfieTask, type SelfieTaskOptions } from './selfie-task';

// The task: its factory, loss and accuracy over the candidate patches
export { candidateAccuracy, candidateLoss, SELFIE_HEAD, selfieTask } from './selfie-task';
export type { SelfieTask, SelfieTaskOptions } from './selfie-task';

// Patches: cut into slots, a seeded mask, rows of chosen slots
export { drawSelfieMask, imagePatches, selectSlots } from './patches';
export type { SelfieMask } from './patches';

// The networks: the encoder's early stages on patches, and the attention-pooling head
export { encodePatches, patchEncoder } from './patch-encoder';
export type { PatchEncoder } from './patch-encoder';
export { attentionPool, createAttentionPooling, slotEmbeddings } from './attention-pooling';
export type { AttentionPoolingShape } from './attention-pooling';

/** The plugin factory (`--method selfie`): `(options?) => PretextTaskV1`. */
export default selfieTask satisfies PretextTaskFactory<SelfieTaskOptions>;
