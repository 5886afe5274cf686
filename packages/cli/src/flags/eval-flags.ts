import type { FlagSpec } from '../parse-flags';
import { AUTOATTACK_VERSIONS } from './choices';
import { RUN_FLAGS } from './run-flags';

/** What `eval --attacks` can run. */
export const EVALUATIONS = ['clean', 'fgsm', 'pgd', 'autoattack', 'cifar10c'] as const;
/** `eval --attacks` when not given: autoattack on request (minutes per 100 images on a CPU). */
export const DEFAULT_EVALUATIONS = 'clean,fgsm,pgd,cifar10c';

/** `moco-robust eval`'s flags. */
export const EVAL_FLAGS = {
  ...RUN_FLAGS,
  resume: {
    type: 'boolean',
    description:
      'restart the evaluation in --out from the start with its saved settings and --from (a stopped or failed ' +
      'eval; the reports are replaced)',
  },
  from: {
    type: 'string',
    description:
      'the classifier: a finetune run directory, a checkpoint directory ' +
      'or any tfjs layers model.json (images in [0,1] → logits)',
  },
  attacks: {
    type: 'string',
    description: `comma-separated evaluations among ${EVALUATIONS.join(', ')} (default ${DEFAULT_EVALUATIONS})`,
  },
  autoattack: {
    type: 'string',
    description:
      'also evaluate with AutoAttack of this version (cpu: APGD-CE + APGD-T; standard: + FAB-T + Square); ' +
      'sets eval.autoAttackVersion',
    choices: AUTOATTACK_VERSIONS,
  },
  cifar10c: {
    type: 'string',
    description:
      'folder of the official CIFAR-10-C arrays (<corruption>.npy, labels.npy); default: generate the corruptions',
  },
  frost: {
    type: 'string',
    description:
      'folder of the frost textures for generated CIFAR-10-C (default ' +
      '$MOCO_ROBUST_FROST; without it frost is skipped and noted)',
  },
  name: { type: 'string', description: "the run's name in the report (default the --from path)" },
} satisfies FlagSpec;

/** `moco-robust eval --help`: what the command does and writes. */
export const EVAL_HELP =
  'Evaluates a classifier: clean accuracy, FGSM and PGD robust accuracy (model in inference mode) and ' +
  'CIFAR-10-C per corruption × severity; writes report.json, report.md, charts/ and index.html to --out.';
