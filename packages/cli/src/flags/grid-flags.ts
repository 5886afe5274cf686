import type { FlagSpec } from '../parse-flags';
import { AUTOATTACK_VERSIONS, BACKEND_CHOICES, GRID_ATTACKS, PRESETS, PROTOCOLS } from './choices';

/** `moco-robust grid`'s flags. */
export const GRID_FLAGS = {
  spec: { type: 'string', description: 'JSON or YAML grid spec (keys as the flags below; flags override it)' },
  methods: {
    type: 'string',
    description: 'comma list: none, moco-v1, moco-v2, jigsaw, rotation, selfie, rocl or any plugin (default all)',
  },
  attacks: { type: 'string', description: `pre-training attacks, comma list of ${GRID_ATTACKS.join(', ')}` },
  architectures: { type: 'string', description: 'comma list (default resnet18,resnet50 at full, else the preset’s)' },
  seeds: { type: 'string', description: 'seeds: 0,1,2 or 0-2 (default 0-2)' },
  preset: {
    type: 'string',
    description: 'size of every cell (default demo); study: the whole Table 1 grid in about 2 h on a CPU',
    choices: PRESETS,
  },
  autoattack: {
    type: 'string',
    description: 'also evaluate every cell with AutoAttack of this version (cpu: APGD-CE + APGD-T)',
    choices: AUTOATTACK_VERSIONS,
  },
  protocol: { type: 'string', description: 'settings of every cell (default standard)', choices: PROTOCOLS },
  set: {
    type: 'string',
    description: 'a setting for every cell, e.g. --set finetune.epochs=2 (repeatable)',
    multiple: true,
  },
  name: { type: 'string', description: 'title of the grid report' },
  reference: { type: 'string', description: 'method paired differences are taken against (default moco-v1)' },
  data: { type: 'string', description: 'CIFAR-10 binary files; default $MOCO_ROBUST_DATA or the cache' },
  out: { type: 'string', description: 'grid directory (new or empty; with --resume, the grid to continue)' },
  resume: { type: 'boolean', description: 'continue the grid in --out: finished cells skipped, unfinished resumed' },
  'retry-failed': { type: 'boolean', description: 'with --resume: run failed cells again' },
  'dry-run': {
    type: 'boolean',
    description: 'list the cells and estimate their cost from measured steps; runs nothing',
  },
  frost: { type: 'string', description: 'frost textures folder for CIFAR-10-C (default $MOCO_ROBUST_FROST)' },
  backend: { type: 'string', description: 'force a tfjs backend', choices: BACKEND_CHOICES },
  json: { type: 'boolean', description: 'print one JSON object with the results on stdout' },
} satisfies FlagSpec;

/** `moco-robust grid --help`: what the command does and writes. */
export const GRID_HELP =
  "The paper's Table 1 as one command: every method × pre-training attack × architecture × seed is a cell, a " +
  'complete run (pre-train → adversarial fine-tune → evaluate) in <out>/cells/<cell>/; then ' +
  '<out>/report.{json,md,html} ' +
  'with mean ± 95 % t-intervals over seeds, paired differences to MoCo and charts. Cells run one after another; ' +
  'Ctrl-C (or a kill) and --resume continue where the grid stopped.';
