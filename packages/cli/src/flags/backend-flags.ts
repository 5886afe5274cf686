import type { FlagSpec } from '../parse-flags';
import { BACKEND_CHOICES } from './choices';

/** `moco-robust backend`'s flags. */
export const BACKEND_FLAGS = {
  backend: { type: 'string', description: 'force one backend (as MOCO_ROBUST_BACKEND)', choices: BACKEND_CHOICES },
  variant: {
    type: 'string',
    description: 'build: tfjs-node (cpu) or tfjs-node-gpu (gpu)',
    choices: ['cpu', 'gpu'],
    default: 'cpu',
  },
  'tensorflow-version': { type: 'string', description: 'build: TensorFlow wheel version', default: '2.21.0' },
  wheel: { type: 'string', description: 'build: an already downloaded TensorFlow wheel' },
  force: { type: 'boolean', description: 'build: rebuild even if the backend loads' },
  json: { type: 'boolean', description: 'print one JSON object on stdout' },
} satisfies FlagSpec;

/** `moco-robust backend --help`: what the command does and writes. */
export const BACKEND_HELP =
  '`moco-robust backend` shows which tfjs backends load, which ' +
  'one is chosen and why the others were skipped.\n`moco-robust ' +
  'backend build` builds @tensorflow/tfjs-node(-gpu) against the TensorFlow C library of a pip wheel.';
