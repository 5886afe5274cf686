import { MocoRobustError } from '@moco-robust/core';
import type { Job, Queue } from 'bullmq';
import { canonicalJson } from '../canonical-json';
import type { GridCell, GridSpec } from '../grid/grid-spec';
import type { CellResult } from '../grid/run-cell';
import type { GridFile } from '../grid/run-grid';
import { UsageError } from '../usage-error';
import { CELL_QUEUE, cellJobId, type QueueConnection } from './queue-connection';

/** A job's data: enough for any worker to run the cell in `<store>/<grid>/cells/<cell>/`. */
export interface CellJobData {
  grid: string;
  cell: string;
  hash: string;
  config: GridCell['config'];
}

/** What a cell's job reports while it runs (`job.progress`). */
export interface CellProgress {
  worker: string;
  phase: 'pretrain' | 'finetune' | 'eval' | 'done';
  phasesDone: number;
  phases: number;
}

/** One cell as `grid status --queue` shows it. */
export interface QueuedCellState {
  cell: string;
  jobId: string;
  state: 'waiting' | 'running' | 'done' | 'failed' | 'missing';
  /** The grid whose submission created the job (another grid with the same cell shares it). */
  grid?: string;
  worker?: string;
  progress?: CellProgress;
  attempts: number;
  error?: string;
  result?: CellResult;
}

/** Redis hashes beside BullMQ's keys: grid name → its `grid.json`; worker name → its announcement. */
export const GRIDS_KEY = 'moco-robust:grids';
export const WORKERS_KEY = 'moco-robust:workers';

/** Redis could not be reached (or stopped answering) at the `--queue` address. */
export class QueueUnreachableError extends MocoRobustError {
  constructor(connection: QueueConnection, cause: unknown) {
    super(
      `cannot reach Redis at ${connection.host}:${connection.port} (db ${connection.db}): ` +
        `${(cause as Error)?.message ?? String(cause)}; expected a running redis-server (docs/scale-out.md)`,
      { code: 'queue-unreachable', cause },
    );
    this.name = 'QueueUnreachableError';
  }
}

/**
 * Opens the cell queue (`bullmq` is loaded here, only by the commands that use Redis). With `failFast` (the
 * submitting, status and report commands) an unreachable Redis is a {@link QueueUnreachableError} within seconds;
 * without it (workers) the connection waits and reconnects while Redis restarts.
 */
export async function openCellQueue(
  connection: QueueConnection,
  options: { failFast?: boolean } = {},
): Promise<Queue<CellJobData, CellResult>> {
  const { Queue } = await import('bullmq');
  const settings = options.failFast
    ? { ...connection, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 5000 }
    : connection;
  const queue = new Queue<CellJobData, CellResult>(CELL_QUEUE, { connection: settings });
  let failure: unknown;
  queue.on('error', (error) => {
    failure = error; // reported by the ping below (fail fast) or retried by ioredis (workers)
  });
  if (options.failFast)
    try {
      await (await queue.client).hexists(GRIDS_KEY, 'ping');
    } catch (error) {
      await queue.close().catch(() => undefined);
      throw new QueueUnreachableError(connection, failure ?? error);
    }
  return queue;
}

/**
 * Submits a grid's cells as jobs (job id = cell hash, so submitting again adds nothing) and records its
 * `grid.json` in Redis under its name; a name already used by another spec is refused. Returns the jobs added.
 */
export async function submitGrid(
  queue: Queue<CellJobData, CellResult>,
  name: string,
  spec: GridSpec,
  cells: readonly GridCell[],
): Promise<{ added: string[]; existing: string[] }> {
  const file: GridFile = {
    schema: 'moco-robust/grid@1',
    createdAt: new Date().toISOString(),
    spec,
    cells: cells.map(({ name, hash, method, pretrainAttack, architecture, seed }) => {
      return { name, hash, method, pretrainAttack, architecture, seed };
    }),
  };
  const client = await queue.client;
  if (!(await client.hexists(GRIDS_KEY, name))) await client.hset(GRIDS_KEY, { [name]: JSON.stringify(file) });
  const saved = await readGridFile(queue, name);
  if (canonicalJson(saved!.cells) !== canonicalJson(file.cells))
    throw new UsageError(`grid: a grid named '${name}' with other cells is already on the queue; choose another --out`);
  const added: string[] = [];
  const existing: string[] = [];
  for (const cell of cells) {
    const jobId = cellJobId(cell.hash);
    if (await queue.getJob(jobId)) {
      existing.push(cell.name);
      continue;
    }
    const data: CellJobData = { grid: name, cell: cell.name, hash: cell.hash, config: cell.config };
    await queue.add(cell.name, data, { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false });
    added.push(cell.name);
  }
  return { added, existing };
}

/** The grid's `grid.json` as submitted, or undefined for a name never submitted. */
export async function readGridFile(queue: Queue, name: string): Promise<GridFile | undefined> {
  const text = await (await queue.client).hget(GRIDS_KEY, name);
  return text ? (JSON.parse(text) as GridFile) : undefined;
}

/** Every cell of a submitted grid with its job's state, worker, progress, attempts, error and (when done) result. */
export async function readQueuedCells(
  queue: Queue<CellJobData, CellResult>,
  file: GridFile,
): Promise<QueuedCellState[]> {
  const states: QueuedCellState[] = [];
  for (const cell of file.cells) {
    const jobId = cellJobId(cell.hash);
    const job = (await queue.getJob(jobId)) as Job<CellJobData, CellResult> | undefined;
    if (!job) {
      states.push({ cell: cell.name, jobId, state: 'missing', attempts: 0 });
      continue;
    }
    const raw = await job.getState();
    const state = raw === 'completed' ? 'done' : raw === 'failed' ? 'failed' : raw === 'active' ? 'running' : 'waiting';
    const progress = typeof job.progress === 'object' ? (job.progress as unknown as CellProgress) : undefined;
    states.push({
      cell: cell.name,
      jobId,
      state,
      grid: job.data.grid,
      worker: state === 'running' ? (progress?.worker ?? job.processedBy) : job.processedBy,
      progress,
      attempts: job.attemptsStarted,
      error: state === 'failed' ? job.failedReason : undefined,
      result: state === 'done' ? job.returnvalue : undefined,
    });
  }
  return states;
}
