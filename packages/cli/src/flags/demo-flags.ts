import type { FlagSpec } from '../parse-flags';
import { RUN_FLAGS } from './run-flags';

/** `moco-robust demo`'s flags. */
export const DEMO_FLAGS = {
  ...RUN_FLAGS,
  frost: {
    type: 'string',
    description:
      'folder of the frost textures for CIFAR-10-C (default $MOCO_ROBUST_FROST; without it frost is skipped and noted)',
  },
} satisfies FlagSpec;

/** `moco-robust demo --help`: what the command does and writes. */
export const DEMO_HELP =
  "The README's main job: adversarial MoCo-v2 pre-training on label-free MoCo-PGD examples, adversarial fine-tuning, " +
  'then clean / FGSM / PGD / CIFAR-10-C evaluation, with a report (index.html, report.md) in the run directory; ' +
  'also the none control (the same adversarial fine-tuning from a random initialisation) side by side, saying ' +
  'whether pre-training helped at this budget.';
