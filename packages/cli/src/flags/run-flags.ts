import type { FlagSpec } from '../parse-flags';
import { BACKEND_CHOICES, PRESETS, PROTOCOLS } from './choices';

/** Flags every run command shares (docs/cli.md). */
export const RUN_FLAGS = {
  data: {
    type: 'string',
    description: 'CIFAR-10 binary files (folder, or its parent); default $MOCO_ROBUST_DATA or the cache',
  },
  out: {
    type: 'string',
    description: 'run directory (new or empty; with --resume, the run to continue); default runs/<command>-<time>',
  },
  preset: { type: 'string', description: 'size of the run (default demo)', choices: PRESETS },
  protocol: {
    type: 'string',
    description: 'settings: the community protocol or the paper text (default standard)',
    choices: PROTOCOLS,
  },
  config: {
    type: 'string',
    description: "JSON or YAML file of settings (keys as in the run's config.json); flags override it",
  },
  set: {
    type: 'string',
    description: 'override one setting, e.g. --set pretrain.epochs=2 (repeatable)',
    multiple: true,
  },
  seed: { type: 'string', description: 'seed of every random draw (default 0)' },
  backend: { type: 'string', description: 'force a tfjs backend', choices: BACKEND_CHOICES },
  resume: {
    type: 'boolean',
    description: 'continue the run in --out from its latest checkpoint, with its saved settings',
  },
  json: { type: 'boolean', description: 'print one JSON object with the results on stdout' },
} satisfies FlagSpec;
