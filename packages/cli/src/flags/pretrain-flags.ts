import type { FlagSpec } from '../parse-flags';
import { RUN_FLAGS } from './run-flags';

/** `moco-robust pretrain`'s flags. */
export const PRETRAIN_FLAGS = {
  ...RUN_FLAGS,
  method: {
    type: 'string',
    description:
      'moco-v1, moco-v2 (built in) or a plugin: rotation, jigsaw, ' +
      'selfie, rocl (@moco-robust/pretext-<name>) or any package name',
  },
  attack: {
    type: 'string',
    description: 'label-free attack crafting the training views',
    choices: ['moco-pgd', 'moco-fgsm', 'none'],
  },
} satisfies FlagSpec;

/** `moco-robust pretrain --help`: what the command does and writes. */
export const PRETRAIN_HELP =
  'Adversarial self-supervised pre-training of an encoder (MoCo-PGD / ' +
  'MoCo-FGSM views, or a plugin pretext task with PGD on its loss). Writes ' +
  '<out>/config.json, events.jsonl, checkpoints/ and the final encoder ' +
  'in <out>/encoder/; Ctrl-C saves a checkpoint, --resume continues.';
