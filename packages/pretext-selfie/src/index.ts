// @moco-robust/pretext-selfie — Selfie (masked-patch selection) as a PretextTaskV1 plugin for @moco-robust/moco.
import type { PretextTaskFactory } from '@moco-robust/core';
import { selfieTask, type SelfieTaskOptions } from './selfie-task';

export { candidateAccuracy, candidateLoss, SELFIE_HEAD, selfieTask } from './selfie-task';
export type { SelfieTask, SelfieTaskOptions } from './selfie-task';
export { checkMaskedCount, drawSelfieMask, imagePatches, patchSlots, selectSlots } from './patches';
export type { SelfieMask } from './patches';
export { encodePatches, patchEncoder } from './patch-encoder';
export type { PatchEncoder } from './patch-encoder';
export { attentionPool, createAttentionPooling, slotEmbeddings } from './attention-pooling';
export type { AttentionPoolingShape } from './attention-pooling';

/** The plugin factory (`--method selfie`): `(options?) => PretextTaskV1`. */
export default selfieTask satisfies PretextTaskFactory<SelfieTaskOptions>;
