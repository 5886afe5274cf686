import type { FlagSpec } from '../parse-flags';

/** `moco-robust data`'s flags. */
export const DATA_FLAGS = {
  data: {
    type: 'string',
    description: 'CIFAR-10: a folder of the official .bin files or its parent; default $MOCO_ROBUST_DATA or the cache',
  },
  cifar10c: { type: 'string', description: 'info: also check a folder in the official CIFAR-10-C layout' },
  'with-cifar10c': {
    type: 'boolean',
    description: 'download: also the official CIFAR-10-C release (2.9 GB, Zenodo 2535967), unpacked to .npy files',
  },
  cache: {
    type: 'string',
    description: 'download: the cache folder (default $MOCO_ROBUST_CACHE or ~/.cache/moco-robust)',
  },
  url: { type: 'string', description: 'download: a mirror of the CIFAR-10 archive (the official MD5 still applies)' },
  frost: {
    type: 'boolean',
    description:
      'download: only the frost textures of the CIFAR-10-C generator (SHA-256-verified) into <cache>/frost, where ' +
      'eval, corrupt and demo find them',
  },
  'frost-url': {
    type: 'string',
    description: 'download: a mirror folder of the frost source images (the official SHA-256 still applies)',
  },
  json: { type: 'boolean', description: 'print one JSON object on stdout' },
} satisfies FlagSpec;

/** `moco-robust data --help`: what the command does and writes. */
export const DATA_HELP =
  '`moco-robust data download` fetches the official cifar-10-binary.tar.gz (MD5-verified, resumable: an interrupted ' +
  'download resumes with an HTTP Range request) into the cache, where every command finds it; --with-cifar10c ' +
  'adds CIFAR-10-C; --frost fetches only the frost textures of the CIFAR-10-C generator.\n' +
  '`moco-robust data info` says where CIFAR-10 was found, how many records each split ' +
  'holds and how the classes are distributed (and, with --cifar10c, which CIFAR-10-C arrays a folder holds).';
