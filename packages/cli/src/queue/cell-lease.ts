import { randomUUID } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MocoRobustError } from '@moco-robust/core';

/** `<cell>/lease.json`: who writes the cell and until when (renewed while it runs). */
export interface LeaseRecord {
  token: string;
  worker: string;
  /** Epoch milliseconds; past it, another worker may take the cell over. */
  expiresAt: number;
}

/** The cell is being written by another worker whose lease has not expired. */
export class CellLockedError extends MocoRobustError {
  readonly holder: LeaseRecord;
  constructor(dir: string, holder: LeaseRecord) {
    super(
      `cell ${dir} is leased by worker ${holder.worker} until ${new Date(holder.expiresAt).toISOString()}; ` +
        'expected a free or expired lease',
      { code: 'cell-locked' },
    );
    this.name = 'CellLockedError';
    this.holder = holder;
  }
}

/** A held lease: renewed every third of its duration until released; `lost` aborts when another worker took it. */
export interface CellLease {
  readonly record: LeaseRecord;
  /** Aborted when a renewal finds the lease expired or held by someone else: stop writing the cell. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/** The renewing thread (CommonJS, run by `eval`): each third of the lease, rewrite it (temp + rename) if still ours. */
const RENEWER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { path, token, worker, seconds, maxBlockSeconds } = workerData;
let alive = Date.now();
parentPort.on('message', () => { alive = Date.now(); });
const timer = setInterval(() => {
  let seen;
  try { seen = JSON.parse(readFileSync(path, 'utf8')); } catch { seen = undefined; }
  const reason = !seen ? 'lease file gone' : seen.token !== token ? 'taken over by ' + seen.worker
    : seen.expiresAt <= Date.now() ? 'expired before renewal' : undefined;
  if (reason) { clearInterval(timer); parentPort.postMessage({ type: 'lost', reason }); return; }
  if (Date.now() - alive > maxBlockSeconds * 1000) return; // main thread hung: let the lease expire
  const record = { token, worker, expiresAt: Date.now() + seconds * 1000 };
  writeFileSync(path + '.' + token + '.tmp', JSON.stringify(record));
  renameSync(path + '.' + token + '.tmp', path);
  parentPort.postMessage({ type: 'renewed', record });
}, (seconds * 1000) / 3);
`;

const read = async (path: string): Promise<LeaseRecord | undefined> => {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LeaseRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};

/**
 * Takes the lease on a cell folder for `seconds`: created with an exclusive open (`lease.json`); an expired lease (its
 * holder died) is moved aside by rename — only one taker wins the rename — and checked to be the expired one.
 * Throws {@link CellLockedError} while a live holder has it. Clocks of the workers must agree (NTP) to well within
 * `seconds`.
 */
export async function acquireCellLease(dir: string, worker: string, seconds: number): Promise<CellLease> {
  const path = join(dir, 'lease.json');
  const token = randomUUID();
  const record = (): LeaseRecord => ({ token, worker, expiresAt: Date.now() + seconds * 1000 });
  for (let tries = 0; ; tries++) {
    try {
      await writeFile(path, JSON.stringify(record()), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 5) throw error;
    }
    const holder = await read(path);
    if (!holder) continue;
    if (holder.expiresAt > Date.now()) throw new CellLockedError(dir, holder);
    const aside = `${path}.expired-${token}`;
    try {
      await rename(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // another taker moved it first
      throw error;
    }
    const moved = await read(aside);
    if (moved && moved.token !== holder.token) await link(aside, path).catch(() => undefined); // a fresh one: back
    await unlink(aside).catch(() => undefined);
  }
  const controller = new AbortController();
  // Renewed from a worker thread: tfjs-node's kernels block the main thread (a long step must not lose the lease);
  // the thread stops renewing when the main thread has not answered for `maxBlockSeconds` (a hung process).
  const renewer = new Worker(RENEWER, {
    eval: true,
    workerData: { path, token, worker, seconds, maxBlockSeconds: Math.max(600, 10 * seconds) },
  });
  renewer.unref();
  let current: LeaseRecord = { token, worker, expiresAt: Date.now() + seconds * 1000 };
  renewer.on('message', (message: { type: 'renewed'; record: LeaseRecord } | { type: 'lost'; reason: string }) => {
    if (message.type === 'renewed') current = message.record;
    else controller.abort(new Error(`lease on ${dir} lost (${message.reason})`));
  });
  const alive = setInterval(() => renewer.postMessage('alive'), 1000);
  alive.unref();
  return {
    get record() {
      return current;
    },
    lost: controller.signal,
    async release() {
      clearInterval(alive);
      await renewer.terminate();
      const seen = await read(path).catch(() => undefined);
      if (seen?.token === token) await unlink(path).catch(() => undefined);
    },
  };
}
