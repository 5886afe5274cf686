// Measures the scale-out (docs/scale-out.md): a tiny grid run by the local grid, by one queue worker and by two,
// each from submission to the last cell done, on a fresh redis-server per run. Run after building the CLI:
//   MOCO_ROBUST_DATA=/path/to/cifar10-sample node packages/cli/scripts/measure-queue.mjs [seeds, default 0-1]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
const seeds = process.argv[2] ?? '0-1';
const grid = ['--preset', 'tiny', '--methods', 'none,moco-v1', '--attacks', 'moco-pgd', '--seeds', seeds];
const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' };
const root = await mkdtemp(join(tmpdir(), 'mr-measure-'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function redis(dir) {
  const port = await freePort();
  const child = spawn('redis-server', [
    '--port',
    `${port}`,
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
  ]);
  await new Promise((resolve) => child.stdout.on('data', (c) => String(c).includes('Ready to accept') && resolve()));
  return { child, url: `redis://127.0.0.1:${port}` };
}

function cellSeconds(dir) {
  const file = JSON.parse(readFileSync(join(dir, 'grid.json'), 'utf8'));
  return file.cells.map((c) => {
    const path = join(dir, 'cells', c.name, 'status.json');
    return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
  });
}

/** Seconds between one cell's end and the next one's start in the local grid (its status.json times). */
function localGaps(statuses) {
  const sorted = [...statuses].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  return sorted.slice(1).map((s, i) => (Date.parse(s.startedAt) - Date.parse(sorted[i].finishedAt)) / 1000);
}

async function local() {
  const out = join(root, 'local');
  const start = performance.now();
  const result = spawnSync(process.execPath, [bin, 'grid', ...grid, '--out', out, '--json'], { env });
  if (result.status !== 0) throw new Error(String(result.stderr));
  const seconds = (performance.now() - start) / 1000;
  const statuses = cellSeconds(out);
  return { seconds, cells: statuses.map((s) => s.wallTimeSeconds), gapsBetweenCells: localGaps(statuses) };
}

async function queued(workers) {
  const dir = await mkdtemp(join(root, `queue-${workers}-`));
  const { child, url } = await redis(dir);
  const store = join(dir, 'store');
  const start = performance.now();
  const procs = Array.from({ length: workers }, (_, i) =>
    spawn(process.execPath, [bin, 'worker', '--queue', url, '--store', store, '--name', `w${i}`], { env }),
  );
  const submit = spawnSync(process.execPath, [bin, 'grid', ...grid, '--queue', url, '--out', 'g', '--json'], { env });
  if (submit.status !== 0) throw new Error(String(submit.stderr));
  const total = JSON.parse(String(submit.stdout)).cells;
  const gridDir = join(store, 'g');
  for (;;) {
    const statuses = existsSync(join(gridDir, 'grid.json')) ? cellSeconds(gridDir).filter(Boolean) : [];
    if (statuses.filter((s) => s.status === 'done').length === total) break;
    await sleep(200);
  }
  const seconds = (performance.now() - start) / 1000;
  // BullMQ's own times per job: from taken (processedOn) to finished (finishedOn), minus the cell runner's time
  const { Queue } = await import('bullmq');
  const queue = new Queue('moco-robust-cells', { connection: { host: '127.0.0.1', port: Number(url.split(':')[2]) } });
  const jobs = (await queue.getJobs(['completed'])).sort((a, b) => a.processedOn - b.processedOn);
  await queue.close();
  const byWorker = new Map();
  for (const job of jobs) byWorker.set(job.processedBy, [...(byWorker.get(job.processedBy) ?? []), job]);
  const gaps = [...byWorker.values()].flatMap((list) =>
    list.slice(1).map((j, i) => (j.processedOn - list[i].finishedOn) / 1000),
  );
  const statuses = cellSeconds(gridDir);
  const bookkeeping = jobs.map((j) => {
    const status = JSON.parse(readFileSync(join(gridDir, 'cells', j.data.cell, 'status.json'), 'utf8'));
    return (j.finishedOn - j.processedOn) / 1000 - status.wallTimeSeconds;
  });
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((resolve) => p.on('exit', resolve))));
  child.kill('SIGTERM');
  return { seconds, cells: statuses.map((s) => s.wallTimeSeconds), gapsBetweenCells: gaps, bookkeeping };
}

const results = { local: await local(), oneWorker: await queued(1), twoWorkers: await queued(2) };
const n = results.local.cells.length;
const sum = (a) => a.reduce((x, y) => x + y, 0);
console.log(
  JSON.stringify(
    {
      cells: n,
      ...results,
      overheadPerCellSeconds: (results.oneWorker.seconds - results.local.seconds) / n,
      cellTimeOverheadPerCellSeconds: (sum(results.oneWorker.cells) - sum(results.local.cells)) / n,
      speedUpTwoWorkers: results.local.seconds / results.twoWorkers.seconds,
    },
    null,
    2,
  ),
);
