// Scale-out on Redis with real processes: Debian's redis-server on a free 127.0.0.1 port (append-only file in a
// temporary folder), `moco-robust worker`s and `grid --queue` from the built binary, on a 2-cell tiny grid.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cifarSampleDir } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, cliEnv, runCli } from './run-cli';

const sample = cifarSampleDir();
const env = cliEnv();
/** Runs a grid command of the built CLI (a grid of tiny cells may take minutes). */
const runGrid = (args: string[]) => runCli(args, { timeoutMs: 600_000 });
/** The smallest grid that shows it: the none control and MoCo-PGD, one seed, 128 training and 64 test images. */
const GRID = [
  '--preset',
  'tiny',
  '--set',
  'data.trainImages=128',
  '--set',
  'data.testImages=64',
  '--set',
  'finetune.validationSize=16',
  '--set',
  'eval.cifar10cImages=4',
  '--methods',
  'none,moco-v1',
  '--attacks',
  'moco-pgd',
  '--seeds',
  '0',
];
const WEIGHTS = ['pretrain/encoder/weights.bin', 'finetune/model/weights.bin'];
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** redis-server on `port` with its append-only file (fsync on every write) in `dir`; resolves once it accepts. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const args = ['--port', `${port}`, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes'];
  const redis = spawn('redis-server', [...args, '--appendfsync', 'always', '--save', ''], { stdio: 'pipe' });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    redis.stdout!.on('data', (chunk) => {
      log += chunk;
      if (log.includes('Ready to accept connections')) resolve();
    });
    redis.on('error', reject); // no redis-server: apt-get install redis-server (.ci/run does)
    redis.on('exit', (code) => reject(new Error(`redis-server exited ${code}: ${log}`)));
  });
  return redis;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

function startWorker(queue: string, store: string, name: string, lockSeconds: number) {
  const args = ['worker', '--queue', queue, '--store', store, '--name', name, '--lock-seconds', `${lockSeconds}`];
  const child = spawn(process.execPath, [CLI_BIN, ...args, '--stalled-seconds', '1'], { env });
  const output = { stderr: '' };
  child.stderr.on('data', (chunk) => (output.stderr += chunk));
  return Object.assign(child, { output });
}

const readGridStatus = (queue: string, grid: string) => {
  const result = runGrid(['grid', 'status', '--queue', queue, '--grid', grid, '--json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
};

/** Polls `probe` (a `grid status` process costs a CPU-second on this busy machine: every 2 s at most). */
async function waitFor<T>(what: string, probe: () => T | undefined, seconds = 420, everyMs = 2000): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

describe.skipIf(!sample)('grid --queue and moco-robust worker (BullMQ on redis-server, real processes)', () => {
  let root = '';
  let local = '';
  let cellNames: string[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mr-queue-'));
    local = join(root, 'local');
    const result = runGrid(['grid', ...GRID, '--out', local, '--json']);
    expect(result.status, result.stderr).toBe(0);
    cellNames = readJson(join(local, 'grid.json')).cells.map((c: { name: string }) => c.name);
  }, 600_000);

  afterAll(async () => {
    for (const child of children) await stop(child, 'SIGKILL');
    if (root && !process.env.MOCO_ROBUST_KEEP_QUEUE_TEST) await rm(root, { recursive: true, force: true });
  });

  /** A fresh redis-server for one scenario, with its own store. */
  async function scenario(name: string) {
    const dir = join(root, name);
    const port = await freePort();
    const redisDir = await mkdtemp(join(root, `${name}-redis-`));
    const redis = await startRedis(port, redisDir);
    children.push(redis);
    return { dir, port, redis, redisDir, queue: `redis://127.0.0.1:${port}/0`, store: join(dir, 'store') };
  }

  const expectSameAsLocal = (cellDir: string, name: string) => {
    for (const f of WEIGHTS.filter((f) => !name.startsWith('none.') || !f.startsWith('pretrain')))
      expect(readFileSync(join(cellDir, f)).equals(readFileSync(join(local, 'cells', name, f))), `${name}/${f}`).toBe(
        true,
      );
    expect(readJson(join(cellDir, 'result.json')).report.robustness).toEqual(
      readJson(join(local, 'cells', name, 'result.json')).report.robustness,
    );
  };

  it('submitting twice adds no jobs; two workers finish the grid and its report equals the local one', async () => {
    const { queue, store, dir, redis } = await scenario('two');
    const workers = [startWorker(queue, store, 'w1', 20), startWorker(queue, store, 'w2', 20)];
    children.push(...workers);
    // submitted once both wait for jobs, so each takes one cell
    const ready = () => workers.every((w) => /: ready \(backend/.test(w.output.stderr));
    await waitFor('both workers to announce', ready, 120, 200);
    const first = runGrid(['grid', ...GRID, '--queue', queue, '--out', 'g', '--json']);
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ grid: 'g', cells: 2, existing: [] });
    expect(JSON.parse(first.stdout).added).toEqual(cellNames);
    const again = runGrid(['grid', ...GRID, '--queue', queue, '--out', 'g', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: [], existing: cellNames });
    const counts = readGridStatus(queue, 'g').counts;
    expect(counts.waiting + counts.running).toBe(2);
    const nobody = runGrid(['grid', ...GRID, '--queue', `redis://127.0.0.1:${await freePort()}`, '--out', 'g']);
    expect(nobody.status).toBe(1);
    expect(nobody.stderr).toMatch(/cannot reach Redis at 127\.0\.0\.1:\d+ \(db 0\): .*expected a running redis-server/);
    const other = runGrid(['grid', ...GRID, '--seeds', '1', '--queue', queue, '--out', 'g']);
    expect(other.status).toBe(2); // the name g is taken by other cells
    expect(other.stderr).toMatch(/a grid named 'g' with other cells is already on the queue/);
    const announced = readGridStatus(queue, 'g').workers;
    expect(announced.map((w: { worker: string }) => w.worker).sort()).toEqual(['w1', 'w2']);
    expect(new Set(announced.map((w: { backend: string }) => w.backend)).size).toBe(1);
    const done = await waitFor('both cells done', () => {
      const s = readGridStatus(queue, 'g');
      return s.counts.done === 2 ? s : undefined;
    });
    expect(done.cells.map((c: { worker: string }) => c.worker).sort()).toEqual(['w1', 'w2']); // one cell each
    for (const worker of workers) expect(await stop(worker), worker.output.stderr).toBe(0); // idle: exits at once

    const fromQueue = runGrid([
      'grid',
      'report',
      '--queue',
      queue,
      '--grid',
      'g',
      '--out',
      join(dir, 'report'),
      '--json',
    ]);
    expect(fromQueue.status, fromQueue.stderr).toBe(0);
    const fromStore = runGrid(['grid', 'report', '--store', store, '--grid', 'g', '--json']);
    expect(fromStore.status, fromStore.stderr).toBe(0);
    const expected = readJson(join(local, 'report.json'));
    for (const path of [join(dir, 'report', 'report.json'), join(store, 'g', 'report.json')]) {
      const report = readJson(path);
      expect(report.rows, path).toEqual(expected.rows);
      for (const cell of expected.cells) {
        const got = report.cells.find((c: { name: string }) => c.name === cell.name);
        // the same cell for cell, but for the wall time and the time the cell's run report was written
        const same = (c: { report: object }) => ({ ...c, wallTimeSeconds: 0, report: { ...c.report, createdAt: 0 } });
        expect(same(got), `${path} ${cell.name}`).toEqual(same(cell));
      }
    }
    for (const name of cellNames) {
      const cellDir = join(store, 'g', 'cells', name);
      expectSameAsLocal(cellDir, name);
      const runs = readJson(join(cellDir, 'status.json')).runs;
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ outcome: 'done', backend: announced[0].backend });
      expect(existsSync(join(cellDir, 'lease.json'))).toBe(false);
    }
    await stop(redis);
  }, 900_000);

  it('a worker SIGKILLed mid-cell: the other worker resumes the cell to the local run’s weights', async () => {
    const { queue, store, redis } = await scenario('kill');
    const result = runGrid(['grid', ...GRID, '--methods', 'moco-v1', '--queue', queue, '--out', 'k', '--json']);
    expect(result.status, result.stderr).toBe(0);
    const [name] = JSON.parse(result.stdout).added;
    const cellDir = join(store, 'k', 'cells', name);
    const workers = { a: startWorker(queue, store, 'a', 10), b: startWorker(queue, store, 'b', 10) };
    children.push(workers.a, workers.b);
    // killed after the first fine-tuning checkpoint (epoch 1 of 2), before the fine-tuned model is written: the
    // probe is a file check, so poll every 50 ms (one tiny epoch can take under 2 s on a quiet machine)
    await waitFor(
      'a fine-tuning checkpoint',
      () => existsSync(join(cellDir, 'finetune', 'checkpoints', 'latest')),
      600,
      50,
    );
    const holder = readJson(join(cellDir, 'lease.json')).worker as 'a' | 'b';
    const survivor = holder === 'a' ? 'b' : 'a';
    expect(await stop(workers[holder], 'SIGKILL')).toBeNull();
    expect(existsSync(join(cellDir, 'finetune', 'model'))).toBe(false);
    await waitFor(
      'the cell done on the other worker',
      () => readGridStatus(queue, 'k').counts.done === 1 || undefined,
      600,
    );
    const runs: Array<{ worker: string; outcome?: string; phases?: string[] }> = readJson(
      join(cellDir, 'status.json'),
    ).runs;
    // the killed worker's attempt never ended; the survivor's resumed it without redoing pre-training
    expect(runs.filter((r) => r.worker === holder).at(-1)!.outcome, JSON.stringify(runs)).toBeUndefined();
    expect(runs.at(-1)!.worker).toBe(survivor);
    expect(runs.at(-1)!.outcome).toBe('done');
    expect(runs.at(-1)!.phases).not.toContain('pretrain');
    const phases = runs.flatMap((r) => r.phases ?? []);
    expect(new Set(phases).size, JSON.stringify(runs)).toBe(phases.length); // no phase ran to its end twice
    expect(phases).toEqual(expect.arrayContaining(['finetune', 'eval']));
    expect(workers[survivor].output.stderr).toMatch(/resuming \(attempt 2\)/);
    expectSameAsLocal(cellDir, name);
    expect(await stop(workers[survivor])).toBe(0);
    await stop(redis);
  }, 900_000);

  it('redis-server restarted mid-grid: no cell lost, none run to completion twice', async () => {
    const { queue, store, port, redis, redisDir } = await scenario('restart');
    expect(runGrid(['grid', ...GRID, '--queue', queue, '--out', 'r']).status).toBe(0);
    const workers = [startWorker(queue, store, 'r1', 10), startWorker(queue, store, 'r2', 10)];
    children.push(...workers);
    const cells = join(store, 'r', 'cells');
    await waitFor(
      'a checkpoint',
      () =>
        existsSync(cells)
          ? readdirSync(cells).some((c) => existsSync(join(cells, c, 'finetune', 'checkpoints', 'latest')))
          : undefined,
      420,
      100,
    );
    expect(await stop(redis)).toBe(0); // SIGTERM: redis-server fsyncs its append-only file and exits
    await sleep(2000);
    const again = await startRedis(port, redisDir);
    children.push(again);
    const done = await waitFor('both cells done', () => {
      const s = readGridStatus(queue, 'r');
      return s.counts.done === 2 ? s : undefined;
    });
    expect(done.counts).toEqual({ waiting: 0, running: 0, done: 2, failed: 0, missing: 0 });
    for (const name of cellNames) {
      const cellDir = join(store, 'r', 'cells', name);
      expectSameAsLocal(cellDir, name);
      const phases = readJson(join(cellDir, 'status.json')).runs.flatMap((r: { phases?: string[] }) => r.phases ?? []);
      expect(phases.sort(), `${name}\n${workers.map((w) => w.output.stderr).join('\n')}`).toEqual(
        name.startsWith('none.') ? ['eval', 'finetune'] : ['eval', 'finetune', 'pretrain'],
      );
    }
    for (const worker of workers) expect(await stop(worker), worker.output.stderr).toBe(0);
    await stop(again);
  }, 900_000);
});
