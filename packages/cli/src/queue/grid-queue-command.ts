import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { atomicWriteFile } from '@moco-robust/core';
import { FLAGS as GRID_FLAGS, specFromFlags } from '../commands/grid';
import { expandGrid } from '../grid/grid-spec';
import { EXIT_CODES } from '../exit-codes';
import { writeGridReport } from '../grid/write-grid-report';
import { helpText, parseFlags, type FlagSpec } from '../parse-flags';
import { UsageError } from '../usage-error';
import { openCellQueue, readGridFile, readQueuedCells, submitGrid, type QueuedCellState } from './grid-queue';
import { checkGridName, parseQueueUrl } from './queue-connection';
import { listWorkers } from './run-worker';

const { methods, attacks, architectures, seeds, preset, protocol, set, name, reference, spec, json } = GRID_FLAGS;
const SUBMIT_FLAGS = {
  spec,
  methods,
  attacks,
  architectures,
  seeds,
  preset,
  protocol,
  set,
  name,
  reference,
  queue: { type: 'string', description: 'redis://host:port[/db]: submit the cells as jobs for `moco-robust worker`s' },
  out: { type: 'string', description: "the grid's name: workers write <store>/<name>/ (default grid-<time>)" },
  json,
} satisfies FlagSpec;
const STATUS_FLAGS = {
  queue: { type: 'string', description: 'redis://host:port[/db] the grid was submitted to' },
  grid: { type: 'string', description: "the grid's name (its --out at submission)" },
  store: { type: 'string', description: 'report only: the shared store the workers write (no Redis needed)' },
  out: { type: 'string', description: 'report --queue: folder for the report (default ./<grid>)' },
  json,
} satisfies FlagSpec;

/** `moco-robust grid --queue …`, `grid status --queue …`, `grid report --queue … | --store …`. */
export async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'status' || argv[0] === 'report') return argv[0] === 'status' ? status(argv) : report(argv);
  const { values, help, positionals } = parseFlags('grid', argv, SUBMIT_FLAGS);
  if (help) {
    process.stdout.write(helpText('grid --queue', 'Submit the cells to Redis; workers run them.', SUBMIT_FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`grid: unexpected argument '${positionals[0]}'`);
  const connection = parseQueueUrl(values.queue!);
  const gridName = checkGridName(
    values.out ?? `grid-${new Date().toISOString().replace(/[:.]/g, '-')}`,
    '--out (with --queue)',
  );
  const gridSpec = await specFromFlags(values);
  const cells = expandGrid(gridSpec);
  const queue = await openCellQueue(connection, { failFast: true });
  try {
    const { added, existing } = await submitGrid(queue, gridName, gridSpec, cells);
    if (values.json)
      process.stdout.write(`${JSON.stringify({ grid: gridName, cells: cells.length, added, existing })}\n`);
    else
      process.stdout.write(
        `grid ${gridName}: ${cells.length} cells, ${added.length} jobs added, ${existing.length} already queued\n` +
          `Run workers: moco-robust worker --queue ${values.queue} --store <shared folder>\n` +
          `Follow: moco-robust grid status --queue ${values.queue} --grid ${gridName}\n`,
      );
    return 0;
  } finally {
    await queue.close();
  }
}

async function openGrid(values: { queue?: string; grid?: string }, command: string) {
  if (!values.grid) throw new UsageError(`grid ${command}: --grid <name> is required`);
  const gridName = checkGridName(values.grid);
  const queue = await openCellQueue(parseQueueUrl(values.queue!), { failFast: true });
  const file = await readGridFile(queue, gridName);
  if (!file) {
    await queue.close();
    throw new UsageError(`grid ${command}: no grid named '${gridName}' was submitted to ${values.queue}`);
  }
  return { queue, file, gridName };
}

const describeCell = (c: QueuedCellState, gridName: string): string => {
  const progress = c.progress ? ` ${c.progress.phasesDone}/${c.progress.phases} phases (${c.progress.phase})` : '';
  const other = c.grid && c.grid !== gridName ? ` (the job of grid ${c.grid}, which has the same cell)` : '';
  if (c.state === 'running') return `running on ${c.worker}${progress}${other}`;
  if (c.state === 'done') return `done (by ${c.worker}, ${c.attempts} attempt${c.attempts === 1 ? '' : 's'})${other}`;
  if (c.state === 'failed') return `failed on ${c.worker}: ${c.error}`;
  return c.state === 'missing' ? 'missing (not on the queue: submit the grid again)' : `waiting${progress}`;
};

async function status(argv: string[]): Promise<number> {
  const { values, help } = parseFlags('grid status', argv.slice(1), STATUS_FLAGS);
  if (help) {
    process.stdout.write(
      helpText('grid status', 'Every cell of a queued grid: state, worker, progress.', STATUS_FLAGS),
    );
    return 0;
  }
  if (!values.queue) throw new UsageError('grid status: --queue redis://host:port[/db] is required');
  const { queue, file, gridName } = await openGrid(values, 'status');
  try {
    const cells = await readQueuedCells(queue, file);
    const workers = await listWorkers(queue);
    const counts = Object.fromEntries(
      ['waiting', 'running', 'done', 'failed', 'missing'].map((s) => [s, cells.filter((c) => c.state === s).length]),
    );
    if (values.json) {
      const list = cells.map(({ result, ...c }) => ({ ...c, seconds: result?.phases }));
      process.stdout.write(`${JSON.stringify({ grid: gridName, counts, workers, cells: list })}\n`);
      return 0;
    }
    const width = Math.max(...cells.map((c) => c.cell.length));
    process.stdout.write(
      `grid ${gridName}: ${Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ')}\n${cells.map((c) => `  ${c.cell.padEnd(width)}  ${describeCell(c, gridName)}`).join('\n')}\n` +
        `workers: ${workers.map((w) => `${w.worker} (${w.backend}, ${w.version})`).join(', ') || 'none'}\n`,
    );
    return 0;
  } finally {
    await queue.close();
  }
}

async function report(argv: string[]): Promise<number> {
  const { values, help } = parseFlags('grid report', argv.slice(1), STATUS_FLAGS);
  if (help) {
    process.stdout.write(helpText('grid report', 'The grid report from finished cells.', STATUS_FLAGS));
    return 0;
  }
  if (Boolean(values.queue) === Boolean(values.store))
    throw new UsageError(
      'grid report: give either --queue redis://... --grid <name> or --store <folder> --grid <name>',
    );
  let dir: string;
  if (values.store) {
    if (!values.grid) throw new UsageError('grid report: --grid <name> is required');
    dir = join(resolve(values.store), checkGridName(values.grid));
  } else {
    const { queue, file, gridName } = await openGrid(values, 'report');
    try {
      dir = resolve(values.out ?? gridName);
      const cells = await readQueuedCells(queue, file);
      await mkdir(dir, { recursive: true });
      await atomicWriteFile(join(dir, 'grid.json'), `${JSON.stringify(file, null, 2)}\n`);
      for (const c of cells) {
        if (c.state !== 'done' && c.state !== 'failed') continue;
        const cellDir = join(dir, 'cells', c.cell);
        const seconds = c.result ? Object.values(c.result.phases).reduce((a, s) => a + (s ?? 0), 0) : undefined;
        const cellStatus = {
          status: c.state,
          attempts: c.attempts,
          wallTimeSeconds: seconds,
          ...(c.error ? { error: { name: 'Error', message: c.error } } : {}),
        };
        await atomicWriteFile(join(cellDir, 'status.json'), `${JSON.stringify(cellStatus, null, 2)}\n`);
        const job = await queue.getJob(c.jobId);
        await atomicWriteFile(join(cellDir, 'config.json'), `${JSON.stringify(job!.data.config, null, 2)}\n`);
        if (c.result) await atomicWriteFile(join(cellDir, 'result.json'), `${JSON.stringify(c.result, null, 2)}\n`);
      }
    } finally {
      await queue.close();
    }
  }
  const written = await writeGridReport(dir);
  const done = written.report.cells.filter((c) => c.status === 'done').length;
  const failed = written.report.cells.filter((c) => c.status === 'failed').length;
  if (values.json)
    process.stdout.write(`${JSON.stringify({ dir, done, failed, report: written.html, json: written.json })}\n`);
  else
    process.stdout.write(
      `${done} cells done${failed ? `, ${failed} failed (see report)` : ''}\n` +
        `Report: ${written.html}\n        ${written.markdown}\n`,
    );
  // a grid with failed cells exits as a local grid does: the report is written, the code says some cells failed
  return failed > 0 ? EXIT_CODES['grid-cells-failed']! : 0;
}
