import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { parseSetFlags } from '../config';
import { EXIT_CODES } from '../exit-codes';
import { expandGrid, parseSeeds, resolveGridSpec, type GridCell } from '../grid/grid-spec';
import { createGridDir, runGridLocally, type GridFile } from '../grid/run-grid';
import { writeGridReport } from '../grid/write-grid-report';
import type { CommandInput } from '../command-table';
import type { GRID_FLAGS } from '../flags/grid-flags';
import { ProgressRenderer } from '../progress';
import { loadRunData } from '../run/data';
import { loadFrostFlag } from '../run/frost';
import { assertEmptyOutput } from '../run/run-dir';
import { UsageError } from '../usage-error';

// the Redis scale-out's `grid --queue` (queue/grid-queue-command.ts) takes the same spec flags
export { GRID_FLAGS as FLAGS } from '../flags/grid-flags';

const SPEC_FLAGS = [
  'spec',
  'methods',
  'attacks',
  'architectures',
  'seeds',
  'preset',
  'protocol',
  'autoattack',
  'set',
  'name',
  'reference',
] as const;

async function readSpecFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `grid: --spec ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  try {
    const value = ['.yaml', '.yml'].includes(extname(path).toLowerCase())
      ? (await import('yaml')).parse(text)
      : JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object of keys');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`grid: --spec ${path} is not a valid grid spec: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** `moco-robust grid`. */
export async function handler({ values }: CommandInput<typeof GRID_FLAGS>): Promise<number> {
  if (values['retry-failed'] && !values.resume)
    throw new UsageError('grid: --retry-failed needs --resume --out <grid>');
  let cells: GridCell[];
  let out: string;
  let isNew = false;
  let spec: ReturnType<typeof resolveGridSpec>;
  if (values.resume) {
    if (!values.out) throw new UsageError('grid: --resume needs --out <the grid directory to continue>');
    const given = SPEC_FLAGS.filter(
      (k) => values[k] !== undefined && !(Array.isArray(values[k]) && values[k].length === 0),
    );
    if (given.length > 0)
      throw new UsageError(
        `grid: --resume continues with the grid's saved spec; drop ${given.map((k) => `--${k}`).join(', ')}`,
      );
    out = resolve(values.out);
    if (!existsSync(join(out, 'grid.json')))
      throw new UsageError(
        `grid: --resume needs a grid directory with grid.json; ${out} has none (nothing was changed)`,
      );
    const file = JSON.parse(await readFile(join(out, 'grid.json'), 'utf8')) as GridFile;
    spec = resolveGridSpec(file.spec as unknown as Record<string, unknown>, `${out}/grid.json`);
    cells = expandGrid(spec);
    const names = file.cells.map((c) => c.name).join('\n');
    if (cells.map((c) => c.name).join('\n') !== names)
      throw new UsageError(
        `grid: ${out}/grid.json lists other cells than its spec expands to now (the settings' defaults changed?); ` +
          'start a new grid (nothing was changed)',
      );
  } else {
    spec = await specFromFlags(values);
    cells = expandGrid(spec);
    out = resolve(values.out ?? join('runs', `grid-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    isNew = true;
  }
  const data = await loadRunData(values.data, cells[0]!.config);
  if (values['dry-run']) return dryRun(cells, data, Boolean(values.json), values.backend);
  if (isNew) {
    await assertEmptyOutput('grid', out, 'choose a new directory or pass --resume');
    await createGridDir(out, spec, cells);
  }
  const frostTextures = await loadFrostFlag(values.frost);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupted: saving a checkpoint… (Ctrl-C again to quit at once; --resume continues)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    process.stderr.write(`grid: ${cells.length} cells in ${out}\n`);
    const { done, failed } = await runGridLocally(out, cells, {
      data,
      frostTextures,
      signal: controller.signal,
      backend: values.backend,
      retryFailed: Boolean(values['retry-failed']),
      onEvent: new ProgressRenderer().listener,
    });
    const written = await writeGridReport(out);
    if (values.json)
      process.stdout.write(
        `${JSON.stringify({ out, done, failed, cells: cells.length, report: written.html, json: written.json })}\n`,
      );
    else
      process.stdout.write(
        `\n${done} of ${cells.length} cells done` +
          `${failed ? `, ${failed} failed (see report; --resume --retry-failed reruns them)` : ''}\n` +
          `Report: ${written.html}\n        ${written.markdown}\n`,
      );
    return failed > 0 ? EXIT_CODES['grid-cells-failed']! : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function dryRun(
  cells: GridCell[],
  data: Awaited<ReturnType<typeof loadRunData>>,
  json: boolean,
  backend: string | undefined,
): Promise<number> {
  const { selectBackend } = await import('@moco-robust/core');
  const selection = await selectBackend({ backend: backend as never });
  const { estimateGridCost } = await import('../grid/estimate-cost');
  const { availableParallelism, loadavg } = await import('node:os');
  // the estimate is wall time on this machine as loaded now: say how loaded, and how much CPU the measuring got
  const [loadAverage] = loadavg();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const estimates = await estimateGridCost(cells, data);
  const cpu = process.cpuUsage(cpuStart);
  const measured = {
    loadAverage: Number(loadAverage!.toFixed(2)),
    cores: availableParallelism(),
    wallSeconds: (performance.now() - wallStart) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  const total = estimates.reduce((a, e) => a + e.totalSeconds, 0);
  const cpuTotal = estimates.reduce((a, e) => a + e.cpuSeconds, 0);
  if (json) {
    const plan = { backend: selection.name, measured, cells: estimates, totalSeconds: total, cpuSeconds: cpuTotal };
    process.stdout.write(`${JSON.stringify(plan)}\n`);
    return 0;
  }
  const { formatDuration } = await import('@moco-robust/eval');
  const width = Math.max(...cells.map((c) => c.name.length));
  const lines = estimates.map(
    (e) =>
      `  ${e.cell.padEnd(width)}  ${formatDuration(e.totalSeconds).padStart(12)}  ` +
      `(pre-train ${formatDuration(e.pretrainSeconds)}, ` +
      `fine-tune ${formatDuration(e.finetuneSeconds)}, eval ${formatDuration(e.evalSeconds)}` +
      `${e.autoAttackSeconds ? `, AutoAttack ≤ ${formatDuration(e.autoAttackSeconds)}` : ''}` +
      `${e.cifar10cSeconds ? `, CIFAR-10-C ${formatDuration(e.cifar10cSeconds)}` : ''})`,
  );
  process.stdout.write(
    `${cells.length} cells (cost measured on the ${selection.name} backend from one step of each kind):\n` +
      `${lines.join('\n')}\nTotal: ${formatDuration(total)} at this load; ${formatDuration(cpuTotal)} of CPU time ` +
      `(on a quiet machine the wall time lies between CPU time / ${measured.cores} and CPU time).\n` +
      `Measured at a load average of ${measured.loadAverage} on ${measured.cores} cores; the measuring used ` +
      `${(measured.cpuSeconds / measured.wallSeconds).toFixed(2)} cores on average.\n`,
  );
  return 0;
}

type SpecFlag = 'methods' | 'attacks' | 'architectures' | 'preset' | 'protocol' | 'autoattack' | 'name' | 'reference';

/**
 * The grid spec the flags describe: the `--spec` file, then each spec flag over it, `--seeds` parsed and `--set`
 * merged into its settings — the same for a local grid and one submitted to a queue.
 */
export async function specFromFlags(
  values: Partial<Record<SpecFlag | 'spec' | 'seeds', string>> & { set?: string[] },
): Promise<ReturnType<typeof resolveGridSpec>> {
  const partial: Record<string, unknown> = values.spec ? await readSpecFile(values.spec) : {};
  for (const key of [
    'methods',
    'attacks',
    'architectures',
    'preset',
    'protocol',
    'autoattack',
    'name',
    'reference',
  ] as const)
    if (values[key] !== undefined) partial[key] = values[key];
  if (values.seeds !== undefined) partial.seeds = parseSeeds(values.seeds);
  if (values.set?.length)
    partial.settings = mergeDeep((partial.settings ?? {}) as Record<string, unknown>, parseSetFlags(values.set));
  return resolveGridSpec(partial, values.spec ?? 'grid');
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof out[k] === 'object' && out[k] !== null
        ? mergeDeep(out[k] as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  return out;
}
