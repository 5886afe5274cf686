import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile, MocoRobustError } from '@moco-robust/core';
import type { GridCellRecord } from '@moco-robust/eval';
import type { GridCell, GridSpec } from './grid-spec';
import { runCell, type CellResult, type RunCellOptions } from './run-cell';

/** `<grid>/grid.json`: the spec as resolved and its cells (their configs are in `cells/<cell>/config.json`). */
export interface GridFile {
  schema: 'moco-robust/grid@1';
  createdAt: string;
  spec: GridSpec;
  cells: Array<Pick<GridCell, 'name' | 'hash' | 'method' | 'pretrainAttack' | 'architecture' | 'seed'>>;
}

/** `<grid>/cells/<cell>/status.json`, written by the local runner around each attempt. */
export interface CellStatus {
  status: 'running' | 'done' | 'failed';
  attempts: number;
  /** Wall time of the finished attempts plus the current one when it ends, in seconds. */
  wallTimeSeconds: number;
  startedAt: string;
  finishedAt?: string;
  error?: { name: string; code?: string; message: string };
}

/** Events of the local grid runner (the CLI prints them). */
export type GridEvent =
  | { type: 'cell-start'; index: number; total: number; cell: string; attempt: number; resuming: boolean }
  | { type: 'cell-skip'; index: number; total: number; cell: string; reason: 'done' | 'failed' }
  | { type: 'cell-end'; index: number; total: number; cell: string; seconds: number }
  | { type: 'cell-failed'; index: number; total: number; cell: string; error: string };

const readJson = async <T>(path: string): Promise<T | undefined> =>
  existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as T) : undefined;
const writeJson = (path: string, value: unknown) => atomicWriteFile(path, `${JSON.stringify(value, null, 2)}\n`);

/** Writes `<grid>/grid.json` and each cell's `config.json` (a new grid). */
export async function createGridDir(dir: string, spec: GridSpec, cells: readonly GridCell[]): Promise<void> {
  await mkdir(join(dir, 'cells'), { recursive: true });
  const file: GridFile = {
    schema: 'moco-robust/grid@1',
    createdAt: new Date().toISOString(),
    spec,
    cells: cells.map(({ name, hash, method, pretrainAttack, architecture, seed }) => ({
      name,
      hash,
      method,
      pretrainAttack,
      architecture,
      seed,
    })),
  };
  for (const cell of cells) await writeJson(join(dir, 'cells', cell.name, 'config.json'), cell.config);
  await writeJson(join(dir, 'grid.json'), file);
}

/**
 * Runs the cells of a grid one after another in `<dir>/cells/<cell>/` with {@link runCell}: a finished cell is
 * skipped, an unfinished one resumes from its checkpoints, a failing one is recorded in its `status.json` with its
 * error and the others still run (`retryFailed` reruns failed cells). An abort (Ctrl-C) stops the grid at once.
 */
export async function runGridLocally(
  dir: string,
  cells: readonly GridCell[],
  options: RunCellOptions & { retryFailed?: boolean; onEvent?: (event: GridEvent) => void },
): Promise<{ done: number; failed: number }> {
  let done = 0;
  let failed = 0;
  for (const [index, cell] of cells.entries()) {
    const cellDir = join(dir, 'cells', cell.name);
    const statusPath = join(cellDir, 'status.json');
    const previous = await readJson<CellStatus>(statusPath);
    const base = { index, total: cells.length, cell: cell.name };
    if (previous?.status === 'done' && existsSync(join(cellDir, 'result.json'))) {
      options.onEvent?.({ ...base, type: 'cell-skip', reason: 'done' });
      done++;
      continue;
    }
    if (previous?.status === 'failed' && !options.retryFailed) {
      options.onEvent?.({ ...base, type: 'cell-skip', reason: 'failed' });
      failed++;
      continue;
    }
    const status: CellStatus = {
      status: 'running',
      attempts: (previous?.attempts ?? 0) + 1,
      wallTimeSeconds: previous?.wallTimeSeconds ?? 0,
      startedAt: new Date().toISOString(),
    };
    await writeJson(statusPath, status);
    options.onEvent?.({ ...base, type: 'cell-start', attempt: status.attempts, resuming: previous !== undefined });
    const start = performance.now();
    const elapsed = () => status.wallTimeSeconds + (performance.now() - start) / 1000;
    try {
      await runCell(cell.config, cellDir, options);
      await writeJson(statusPath, { ...status, status: 'done', wallTimeSeconds: elapsed(), finishedAt: now() });
      options.onEvent?.({ ...base, type: 'cell-end', seconds: elapsed() });
      done++;
    } catch (error) {
      if (MocoRobustError.isInstance(error) && (error as { code?: string }).code === 'aborted') {
        await writeJson(statusPath, { ...status, wallTimeSeconds: elapsed() });
        throw error;
      }
      const e = error as Error & { code?: string };
      const record = { name: e.name ?? 'Error', code: e.code, message: String(e.message ?? error).split('\n')[0]! };
      await writeJson(statusPath, {
        ...status,
        status: 'failed',
        wallTimeSeconds: elapsed(),
        finishedAt: now(),
        error: record,
      });
      options.onEvent?.({ ...base, type: 'cell-failed', error: `${record.name}: ${record.message}` });
      failed++;
    }
  }
  return { done, failed };
}

const now = () => new Date().toISOString();

/** The grid's cells as the report reads them: settings, status, wall time and (when done) the run report. */
export async function readGridCells(dir: string, cells: GridFile['cells']): Promise<GridCellRecord[]> {
  const records: GridCellRecord[] = [];
  for (const cell of cells) {
    const cellDir = join(dir, 'cells', cell.name);
    const status = await readJson<CellStatus>(join(cellDir, 'status.json'));
    const result = status?.status === 'done' ? await readJson<CellResult>(join(cellDir, 'result.json')) : undefined;
    records.push({
      name: cell.name,
      method: cell.method,
      pretrainAttack: cell.pretrainAttack,
      architecture: cell.architecture,
      seed: cell.seed,
      status: status?.status === 'done' || status?.status === 'failed' ? status.status : status ? 'running' : 'pending',
      error: status?.error ? `${status.error.name}: ${status.error.message}` : undefined,
      wallTimeSeconds: status?.wallTimeSeconds,
      settings: (await readJson<Record<string, unknown>>(join(cellDir, 'config.json'))) ?? {},
      report: result?.report,
    });
  }
  return records;
}
