import type { FlagSpec } from '../parse-flags';
import { RUN_FLAGS } from './run-flags';

/** `moco-robust finetune`'s flags. */
export const FINETUNE_FLAGS = {
  ...RUN_FLAGS,
  from: {
    type: 'string',
    description:
      'the pre-trained encoder: a pretrain run directory, a checkpoint directory ' +
      'or a model.json (omit for random initialisation: the `none` baseline)',
  },
  mode: { type: 'string', description: 'what trains', choices: ['linear', 'partial', 'full'] },
  loss: {
    type: 'string',
    description: 'standard (clean), adversarial (Madry PGD), mixed (the paper: clean + adversarial), trades',
    choices: ['standard', 'adversarial', 'mixed', 'trades'],
  },
} satisfies FlagSpec;

/** `moco-robust finetune --help`: what the command does and writes. */
export const FINETUNE_HELP =
  'Fine-tunes a pre-trained encoder with a new classifier head (linear / partial / full; standard or ' +
  'adversarial). Writes <out>/model/ (a plain tfjs layers model), checkpoints/, events.jsonl and metrics.json.';
