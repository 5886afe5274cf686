import type { FlagSpec } from '../parse-flags';
import { BACKEND_CHOICES } from './choices';

/** `moco-robust worker`'s flags. */
export const WORKER_FLAGS = {
  queue: { type: 'string', description: 'redis://host:port[/db] the grids were submitted to (grid --queue)' },
  store: {
    type: 'string',
    description: 'shared folder every worker mounts: cells run in <store>/<grid>/cells/<cell>/',
  },
  concurrency: { type: 'string', description: 'cells at once in this process (default 1; they share one tfjs engine)' },
  backend: { type: 'string', description: 'force a tfjs backend', choices: BACKEND_CHOICES },
  data: { type: 'string', description: 'CIFAR-10 binary files; default $MOCO_ROBUST_DATA or the cache' },
  'lock-seconds': {
    type: 'string',
    description: "job lock and cell lease (default 60): a dead worker's cell goes to another after it",
  },
  'stalled-seconds': { type: 'string', description: "how often to look for dead workers' jobs (default lock-seconds)" },
  name: { type: 'string', description: 'worker name shown by grid status (default <host>:<pid>)' },
} satisfies FlagSpec;

/** `moco-robust worker --help`: what the command does and writes. */
export const WORKER_HELP =
  'Runs grid cells from a Redis queue (BullMQ) until stopped: each cell with the local grid’s resumable runner in ' +
  '<store>/<grid>/cells/<cell>/, under a lease on that folder. Ctrl-C or SIGTERM checkpoints the running cells, puts ' +
  'them back on the queue and exits 0.';
