import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { parseSetFlags } from '../config';
import { EXIT_CODES } from '../exit-codes';
import {
  expandGrid,
  GRID_ATTACKS,
  GRID_AUTOATTACK_VERSIONS,
  parseSeeds,
  resolveGridSpec,
  type GridCell,
} from '../grid/grid-spec';
import { createGridDir, runGridLocally, type GridFile } from '../grid/run-grid';
import { writeGridReport } from '../grid/write-grid-report';
import { helpText, parseFlags, type FlagSpec } from '../parse-flags';
import { PRESETS, PROTOCOLS } from '../presets';
import { ProgressRenderer } from '../progress';
import { loadRunData } from '../run/data';
import { loadFrostFlag } from '../run/frost';
import { assertEmptyOutput } from '../run/run-dir';
import { UsageError } from '../usage-error';

export const FLAGS = {
  spec: { type: 'string', description: 'JSON or YAML grid spec (keys as the flags below; flags override it)' },
  methods: {
    type: 'string',
    description: 'comma list: none, moco-v1, moco-v2, jigsaw, rotation, selfie, rocl or any plugin (default all)',
  },
  attacks: { type: 'string', description: `pre-training attacks, comma list of ${GRID_ATTACKS.join(', ')}` },
  architectures: { type: 'string', description: 'comma list (default resnet18,resnet50 at full, else the preset’s)' },
  seeds: { type: 'string', description: 'seeds: 0,1,2 or 0-2 (default 0-2)' },
  preset: {
    type: 'string',
    description: 'size of every cell (default demo); study: the whole Table 1 grid in about 2 h on a CPU',
    choices: PRESETS,
  },
  autoattack: {
    type: 'string',
    description: 'also evaluate every cell with AutoAttack of this version (cpu: APGD-CE + APGD-T)',
    choices: GRID_AUTOATTACK_VERSIONS,
  },
  protocol: { type: 'string', description: 'settings of every cell (default standard)', choices: PROTOCOLS },
  set: {
    type: 'string',
    description: 'a setting for every cell, e.g. --set finetune.epochs=2 (repeatable)',
    multiple: true,
  },
  name: { type: 'string', description: 'title of the grid report' },
  reference: { type: 'string', description: 'method paired differences are taken against (default moco-v1)' },
  data: { type: 'string', description: 'CIFAR-10 binary files; default $MOCO_ROBUST_DATA or the cache' },
  out: { type: 'string', description: 'grid directory (new or empty; with --resume, the grid to continue)' },
  resume: { type: 'boolean', description: 'continue the grid in --out: finished cells skipped, unfinished resumed' },
  'retry-failed': { type: 'boolean', description: 'with --resume: run failed cells again' },
  'dry-run': {
    type: 'boolean',
    description: 'list the cells and estimate their cost from measured steps; runs nothing',
  },
  frost: { type: 'string', description: 'frost textures folder for CIFAR-10-C (default $MOCO_ROBUST_FROST)' },
  backend: { type: 'string', description: 'force a tfjs backend', choices: ['node-gpu', 'node', 'wasm', 'cpu'] },
  json: { type: 'boolean', description: 'print one JSON object with the results on stdout' },
} satisfies FlagSpec;

const SUMMARY =
  "The paper's Table 1 as one command: every method × pre-training attack × architecture × seed is a cell, a " +
  'complete run (pre-train → adversarial fine-tune → evaluate) in <out>/cells/<cell>/; then ' +
  '<out>/report.{json,md,html} ' +
  'with mean ± 95 % t-intervals over seeds, paired differences to MoCo and charts. Cells run one after another; ' +
  'Ctrl-C (or a kill) and --resume continue where the grid stopped.';

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
export async function run(argv: string[]): Promise<number> {
  // the scale-out on Redis (docs/scale-out.md): grid --queue …, grid status|report
  if (argv[0] === 'status' || argv[0] === 'report' || argv.some((a) => a === '--queue' || a.startsWith('--queue=')))
    return (await import('../queue/grid-queue-command')).run(argv);
  const { values, help, positionals } = parseFlags('grid', argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('grid', SUMMARY, FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`grid: unexpected argument '${positionals[0]}'`);
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
