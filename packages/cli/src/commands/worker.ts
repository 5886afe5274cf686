import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { helpText, parseFlags, type FlagSpec } from '../parse-flags';
import { ProgressRenderer } from '../progress';
import { parseQueueUrl } from '../queue/queue-connection';
import { UsageError } from '../usage-error';

const FLAGS = {
  queue: { type: 'string', description: 'redis://host:port[/db] the grids were submitted to (grid --queue)' },
  store: {
    type: 'string',
    description: 'shared folder every worker mounts: cells run in <store>/<grid>/cells/<cell>/',
  },
  concurrency: { type: 'string', description: 'cells at once in this process (default 1; they share one tfjs engine)' },
  backend: { type: 'string', description: 'force a tfjs backend', choices: ['node-gpu', 'node', 'wasm', 'cpu'] },
  data: { type: 'string', description: 'CIFAR-10 binary files; default $MOCO_ROBUST_DATA or the cache' },
  'lock-seconds': {
    type: 'string',
    description: "job lock and cell lease (default 60): a dead worker's cell goes to another after it",
  },
  'stalled-seconds': { type: 'string', description: "how often to look for dead workers' jobs (default lock-seconds)" },
  name: { type: 'string', description: 'worker name shown by grid status (default <host>:<pid>)' },
} satisfies FlagSpec;

const SUMMARY =
  'Runs grid cells from a Redis queue (BullMQ) until stopped: each cell with the local grid’s resumable runner in ' +
  '<store>/<grid>/cells/<cell>/, under a lease on that folder. Ctrl-C or SIGTERM checkpoints the running cells, puts ' +
  'them back on the queue and exits 0.';

const positive = (flag: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`worker: --${flag} must be a positive number; got '${text}'`);
  return value;
};

/** `moco-robust worker`. */
export async function run(argv: string[]): Promise<number> {
  const { values, help, positionals } = parseFlags('worker', argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('worker', SUMMARY, FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`worker: unexpected argument '${positionals[0]}'`);
  if (!values.queue) throw new UsageError('worker: --queue redis://host:port[/db] is required');
  if (!values.store) throw new UsageError('worker: --store <shared folder> is required');
  const connection = parseQueueUrl(values.queue);
  const concurrency = positive('concurrency', values.concurrency, 1);
  if (!Number.isInteger(concurrency))
    throw new UsageError(`worker: --concurrency must be an integer; got '${values.concurrency}'`);
  const lockSeconds = positive('lock-seconds', values['lock-seconds'], 60);
  const { startWorker } = await import('../queue/run-worker');
  const worker = await startWorker({
    connection,
    store: resolve(values.store),
    concurrency,
    backend: values.backend,
    dataDir: values.data,
    lockSeconds,
    stalledSeconds: positive('stalled-seconds', values['stalled-seconds'], lockSeconds),
    name: values.name,
    version: createRequire(import.meta.url)('../package.json').version,
    onEvent: new ProgressRenderer().listener,
  });
  await new Promise<void>((done) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write(`\n${signal}: checkpointing running cells, then exiting (again to quit at once)\n`);
      void worker.stop().then(done, done);
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
  return 0;
}
