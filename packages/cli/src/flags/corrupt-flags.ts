import type { FlagSpec } from '../parse-flags';
import { CORRUPTION_NAMES } from './choices';

/** `moco-robust corrupt`'s flags. */
export const CORRUPT_FLAGS = {
  data: {
    type: 'string',
    description: 'CIFAR-10 binary files (folder, or its parent); default $MOCO_ROBUST_DATA or the cache',
  },
  split: { type: 'string', description: 'which images to corrupt', choices: ['test', 'train'], default: 'test' },
  corruptions: {
    type: 'string',
    description: `comma-separated corruptions (default all 19: ${CORRUPTION_NAMES.join(', ')})`,
  },
  severities: { type: 'string', description: 'severities, a range or a list: 1-5, 3, 1,3,5', default: '1-5' },
  images: { type: 'string', description: 'corrupt only the first N images of the split' },
  frost: {
    type: 'string',
    description: 'folder of the frost textures (default $MOCO_ROBUST_FROST; without it frost is skipped)',
  },
  seed: { type: 'string', description: 'seed of every random draw', default: '0' },
  workers: {
    type: 'string',
    description: 'worker threads (1: this thread; the output is the same bytes either way); default the CPU count',
  },
  'block-images': {
    type: 'string',
    description:
      'images generated and written at a time per corruption and severity (memory: one block per worker, whatever ' +
      'the split size; the bytes do not depend on it)',
    default: '1000',
  },
  out: { type: 'string', description: 'output folder (new or empty)' },
  json: { type: 'boolean', description: 'print one JSON object describing the files on stdout' },
} satisfies FlagSpec;

/** `moco-robust corrupt --help`: what the command does and writes. */
export const CORRUPT_HELP =
  'Writes a CIFAR-10-C-style set in the official release layout: <out>/<corruption>.npy ' +
  '(uint8 [5N,32,32,3], severities 1–5 in consecutive blocks of N) and <out>/labels.npy, ' +
  'generated from CIFAR-10 images by the seeded on-the-fly generator. With a subset of ' +
  'severities each file holds those blocks in the order given (severities.json says which).';
