import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { CommandInput } from '../command-table';
import type { WORKER_FLAGS } from '../flags/worker-flags';
import { ProgressRenderer } from '../progress';
import { parseQueueUrl } from '../queue/queue-connection';
import { UsageError } from '../usage-error';

const positive = (flag: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`worker: --${flag} must be a positive number; got '${text}'`);
  return value;
};

/** `moco-robust worker`. */
export async function handler({ values }: CommandInput<typeof WORKER_FLAGS>): Promise<number> {
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
