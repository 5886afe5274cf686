import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { atomicWriteFile, MocoRobustError, selectBackend, type BackendName } from '@moco-robust/core';
import type { Job } from 'bullmq';
import { expandGrid, resolveGridSpec } from '../grid/grid-spec';
import { runCell, type CellResult } from '../grid/run-cell';
import { createGridDir, type CellStatus } from '../grid/run-grid';
import { loadRunData } from '../run/data';
import { upgradeRunConfig } from '../upgrade-run-config';
import { acquireCellLease, CellLockedError } from './cell-lease';
import { openCellQueue, readGridFile, WORKERS_KEY, type CellJobData, type CellProgress } from './grid-queue';
import { CELL_QUEUE, type QueueConnection } from './queue-connection';

/** One attempt at a cell, as recorded in `<cell>/status.json` (`runs`) and the job's log. */
export interface CellAttempt {
  worker: string;
  backend: string;
  version: string;
  startedAt: string;
  endedAt?: string;
  outcome?: 'done' | 'failed' | 'stopped';
  /** Phases this attempt ran to completion (a phase finished by an earlier attempt is not listed). */
  phases?: string[];
}

/** A cell's `status.json` written by workers: the local grid's fields plus every attempt. */
export interface QueueCellStatus extends CellStatus {
  runs: CellAttempt[];
}

/** What a worker tells the CLI (it prints them). */
export type WorkerEvent =
  | { type: 'worker-ready'; worker: string; backend: string; version: string }
  | { type: 'cell-start'; worker: string; cell: string; grid: string; attempt: number; resuming: boolean }
  | { type: 'cell-end'; worker: string; cell: string; seconds: number }
  | { type: 'cell-failed'; worker: string; cell: string; error: string }
  | { type: 'cell-busy'; worker: string; cell: string; holder: string; until: string }
  | { type: 'cell-stopped'; worker: string; cell: string; reason: string }
  | { type: 'warning'; worker: string; message: string };

/** Options of {@link startWorker}. */
export interface StartWorkerOptions {
  connection: QueueConnection;
  /** The shared folder holding `<grid>/cells/<cell>/` (every worker must see the same one). */
  store: string;
  /** Cells run at once in this process (default 1; more share one tfjs engine). */
  concurrency?: number;
  backend?: string;
  /** CIFAR-10 folder (`--data`); default `$MOCO_ROBUST_DATA` or the cache. */
  dataDir?: string;
  /** BullMQ job lock and cell-folder lease, in seconds (default 60): a dead worker's cell moves on after it. */
  lockSeconds?: number;
  /** How often workers look for stalled jobs, in seconds (default `lockSeconds`). */
  stalledSeconds?: number;
  /** The worker's name (default `<host>:<pid>`). */
  name?: string;
  version: string;
  onEvent?: (event: WorkerEvent) => void;
}

const PHASES = ['pretrain', 'finetune', 'eval'] as const;
const now = () => new Date().toISOString();
const readJson = async <T>(path: string): Promise<T | undefined> =>
  existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as T) : undefined;
const writeJson = (path: string, value: unknown) => atomicWriteFile(path, `${JSON.stringify(value, null, 2)}\n`);

/**
 * Starts a BullMQ worker on the cell queue: each job runs its cell with the local grid's {@link runCell} in
 * `<store>/<grid>/cells/<cell>/` under a lease on that folder, records the attempt (worker, backend, version) in the
 * cell's `status.json` and the job's log, and reports progress. `stop()` checkpoints running cells, puts their jobs
 * back in the queue and closes the worker.
 */
export async function startWorker(options: StartWorkerOptions) {
  const { Worker, DelayedError, WaitingError } = await import('bullmq');
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const lockSeconds = options.lockSeconds ?? 60;
  const emit = options.onEvent ?? (() => undefined);
  const selection = await selectBackend({ backend: options.backend as BackendName | undefined });
  const identity = { worker: name, backend: selection.name, version: options.version };
  const queue = await openCellQueue(options.connection);
  const data = new Map<string, ReturnType<typeof loadRunData>>();
  const stop = new AbortController();

  const prepareGrid = async (grid: string) => {
    const dir = join(options.store, grid);
    if (existsSync(join(dir, 'grid.json'))) return;
    const file = await readGridFile(queue, grid);
    if (!file) throw new Error(`grid '${grid}' has no grid.json in Redis (was it submitted with grid --queue?)`);
    const spec = resolveGridSpec(file.spec as unknown as Record<string, unknown>, `grid ${grid}`);
    await createGridDir(dir, spec, expandGrid(spec));
  };

  const processor = async (job: Job<CellJobData, CellResult>, token?: string): Promise<CellResult> => {
    const { grid, cell } = job.data;
    const config = upgradeRunConfig(job.data.config as unknown as Record<string, unknown>); // a job an older CLI queued
    await prepareGrid(grid);
    const dir = join(options.store, grid, 'cells', cell);
    await mkdir(dir, { recursive: true });
    let lease: Awaited<ReturnType<typeof acquireCellLease>>;
    try {
      lease = await acquireCellLease(dir, name, lockSeconds);
    } catch (error) {
      if (!(error instanceof CellLockedError)) throw error;
      const { worker, expiresAt } = error.holder;
      emit({ type: 'cell-busy', worker: name, cell, holder: worker, until: new Date(expiresAt).toISOString() });
      await job.moveToDelayed(Math.max(expiresAt, Date.now()) + 500, token);
      throw new DelayedError();
    }
    const statusPath = join(dir, 'status.json');
    const previous = await readJson<QueueCellStatus>(statusPath);
    if (!previous && job.attemptsStarted + job.stalledCounter > 1)
      emit({
        type: 'warning',
        worker: name,
        message: `${cell} was started before but ${dir} has no status.json: is --store shared by every worker?`,
      });
    const attempt: CellAttempt = { ...identity, startedAt: now() };
    const status: QueueCellStatus = {
      status: 'running',
      attempts: (previous?.attempts ?? 0) + 1,
      wallTimeSeconds: previous?.wallTimeSeconds ?? 0,
      startedAt: now(),
      runs: [...(previous?.runs ?? []), attempt],
    };
    await writeJson(statusPath, status);
    await job.log(`${attempt.startedAt} attempt ${status.attempts} on ${name} (${selection.name}, ${options.version})`);
    emit({ type: 'cell-start', worker: name, cell, grid, attempt: status.attempts, resuming: previous !== undefined });
    const phasesOf = PHASES.filter((p) => p !== 'pretrain' || config.pretrain.method !== 'none');
    const finished = () => phasesOf.filter((p) => existsSync(join(dir, p, 'done.json')));
    const finishedBefore = finished();
    /** Closes the attempt's record: the phases it ran to completion are those done now and not when it started. */
    const end = (outcome: CellAttempt['outcome']) => {
      attempt.endedAt = now();
      attempt.outcome = outcome;
      attempt.phases = finished().filter((p) => !finishedBefore.includes(p));
    };
    const progress = async () => {
      const done = finished();
      const value: CellProgress = {
        worker: name,
        phase: phasesOf[done.length] ?? 'done',
        phasesDone: done.length,
        phases: phasesOf.length,
      };
      await job.updateProgress(value as unknown as object);
    };
    await progress();
    const ticker = setInterval(() => void progress().catch(() => undefined), 2000);
    /** A worker whose lease was taken over leaves the cell's files to the new holder. */
    const writeStatus = async (value: QueueCellStatus) => {
      if (!lease.lost.aborted) await writeJson(statusPath, value);
    };
    const start = performance.now();
    const elapsed = () => status.wallTimeSeconds + (performance.now() - start) / 1000;
    const key = `${config.data.trainImages}/${config.data.testImages}`;
    if (!data.has(key)) data.set(key, loadRunData(options.dataDir, config));
    try {
      const { train, test } = await data.get(key)!;
      const result = await runCell(config, dir, {
        data: { train, test },
        backend: selection.name,
        signal: AbortSignal.any([stop.signal, lease.lost]),
        quiet: true,
      });
      end('done');
      await writeStatus({ ...status, status: 'done', wallTimeSeconds: elapsed(), finishedAt: now() });
      await job.log(`${attempt.endedAt} done on ${name}; phases run: ${attempt.phases?.join(', ') || 'none'}`);
      emit({ type: 'cell-end', worker: name, cell, seconds: elapsed() });
      return result;
    } catch (error) {
      if (MocoRobustError.isInstance(error) && (error as { code?: string }).code === 'aborted') {
        end('stopped');
        await writeStatus({ ...status, wallTimeSeconds: elapsed() });
        const reason = lease.lost.aborted ? 'lease lost' : 'worker stopping';
        await job.log(`${attempt.endedAt} stopped on ${name} (${reason}); checkpoint kept`);
        emit({ type: 'cell-stopped', worker: name, cell, reason });
        // back to waiting without counting an attempt (fails harmlessly when the lock already moved on)
        await job.moveToWait(token).catch(() => undefined);
        throw new WaitingError();
      }
      const e = error as Error & { code?: string };
      const record = { name: e.name ?? 'Error', code: e.code, message: String(e.message ?? error).split('\n')[0]! };
      end('failed');
      await writeStatus({
        ...status,
        status: 'failed',
        wallTimeSeconds: elapsed(),
        finishedAt: now(),
        error: record,
      });
      emit({ type: 'cell-failed', worker: name, cell, error: `${record.name}: ${record.message}` });
      throw error;
    } finally {
      clearInterval(ticker);
      await lease.release();
    }
  };

  const worker = new Worker<CellJobData, CellResult>(CELL_QUEUE, processor, {
    connection: options.connection,
    name,
    concurrency: options.concurrency ?? 1,
    lockDuration: lockSeconds * 1000,
    stalledInterval: (options.stalledSeconds ?? lockSeconds) * 1000,
    maxStalledCount: 5,
  });
  worker.on('error', (error) => emit({ type: 'warning', worker: name, message: `queue: ${error.message}` }));
  const client = await queue.client;
  const announce = () =>
    client.hset(WORKERS_KEY, {
      [name]: JSON.stringify({
        ...identity,
        host: hostname(),
        pid: process.pid,
        concurrency: options.concurrency ?? 1,
        seenAt: Date.now(),
        heartbeatSeconds: lockSeconds / 2,
      }),
    });
  await announce();
  const heartbeat = setInterval(() => void announce().catch(() => undefined), (lockSeconds * 1000) / 2);
  emit({ type: 'worker-ready', ...identity });
  return {
    ...identity,
    /** Checkpoints running cells (their jobs go back to the queue), then closes the worker and its connections. */
    async stop(): Promise<void> {
      stop.abort();
      clearInterval(heartbeat);
      await worker.close();
      await client.hdel(WORKERS_KEY, name).catch(() => undefined);
      await queue.close();
    },
  };
}

/** Workers whose last heartbeat is at most two heartbeats old: name, backend, version, host, pid, concurrency. */
export async function listWorkers(
  queue: Awaited<ReturnType<typeof openCellQueue>>,
): Promise<Array<Record<string, unknown> & { worker: string; backend: string; version: string }>> {
  const all = await (await queue.client).hgetall(WORKERS_KEY);
  return Object.values(all)
    .map((v) => JSON.parse(v) as Record<string, unknown> & { worker: string; backend: string; version: string })
    .filter((w) => Date.now() - Number(w.seenAt) <= 2000 * Number(w.heartbeatSeconds) + 1000);
}
