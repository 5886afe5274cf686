import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '@moco-robust/core';
import type { CorruptionBenchmark } from '../bench/corruptions';
import type { BackendMeasurement, ComparedMeasurement } from '../bench/measure';
import { TORCH_WORKLOADS, type TorchReference } from '../bench/torch-reference';
import { integerFlag } from '../parse-flags';
import type { CommandInput } from '../command-table';
import type { BENCH_FLAGS } from '../flags/bench-flags';
import { BACKEND_CHOICES } from '../flags/choices';
import { UsageError } from '../usage-error';

const fmt = (v: number | string | null | undefined) =>
  typeof v === 'string'
    ? v
    : typeof v === 'number'
      ? v < 0.1
        ? v.toPrecision(2)
        : v < 10
          ? v.toFixed(2)
          : v.toFixed(1)
      : 'n/a';

/** `moco-robust bench`. */
export async function handler({ values }: CommandInput<typeof BENCH_FLAGS>): Promise<number> {
  const tiny = Boolean(values.tiny);
  const memoryOptions = {
    tiny,
    batch: integerFlag('bench', 'memory-batch', values['memory-batch'], 128),
    tensorSteps: tiny ? 20 : integerFlag('bench', 'memory-steps', values['memory-steps'], 10000),
  };
  if (values['memory-child']) {
    const { runMemoryChild } = await import('../bench/memory');
    process.stdout.write(`\n${JSON.stringify(await runMemoryChild(values['memory-child'], memoryOptions))}\n`);
    return 0;
  }
  if (values.child) {
    const { measureBackend } = await import('../bench/measure');
    process.stdout.write(
      `\n${JSON.stringify(await measureBackend(values.child as BackendName, tiny, values.architecture))}\n`,
    );
    return 0;
  }
  if (values['compared-child']) {
    const { measureCompared } = await import('../bench/measure');
    const backend = values['compared-child'] as BackendName;
    process.stdout.write(`\n${JSON.stringify(await measureCompared(backend, tiny, values.architecture))}\n`);
    return 0;
  }
  const backends = values.backends === 'none' ? [] : values.backends!.split(',').map((b) => b.trim());
  const wasmThreads =
    values['wasm-threads'] === undefined
      ? {}
      : { MOCO_ROBUST_WASM_THREADS: String(integerFlag('bench', 'wasm-threads', values['wasm-threads'], 1)) };
  for (const b of backends)
    if (!(BACKEND_CHOICES as readonly string[]).includes(b))
      throw new UsageError(`bench: --backends must list values among ${BACKEND_CHOICES.join(', ')}; got '${b}'`);
  const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
  const pythons = values.python!.split(',').map((p) => p.trim());
  if (values['compare-torch'] && !values['torch-script'])
    throw new UsageError('bench: --compare-torch needs --torch-script <path to the PyTorch reference script>');
  const torchScript = values['compare-torch'] ? resolve(values['torch-script']!) : undefined;
  if (values.memory)
    return runMemory(
      bin,
      backends.filter((b) => b !== 'cpu' || tiny),
      { ...memoryOptions, torch: torchScript ? { script: torchScript, pythons } : undefined },
      values.out!,
      Boolean(values.json),
    );
  const childFlags = [
    ...(tiny ? ['--tiny'] : []),
    ...(values.architecture ? ['--architecture', values.architecture] : []),
  ];
  const results: Array<BackendMeasurement | { backend: string; error: string }> = [];
  for (const backend of backends) {
    process.stderr.write(`bench: measuring ${backend}…\n`);
    const measured = benchChild<BackendMeasurement>(bin, ['--child', backend, ...childFlags], wasmThreads);
    results.push('error' in measured ? { backend, error: measured.error } : measured);
  }
  const rounds = integerFlag('bench', 'rounds', values.rounds, 1);
  if (rounds < 1) throw new UsageError(`bench: --rounds must be at least 1; got '${values.rounds}'`);
  const corruptionImages = integerFlag('bench', 'corruption-images', values['corruption-images'], 1000);
  let corruptions: CorruptionBenchmark | undefined;
  if (corruptionImages > 0) {
    process.stderr.write('bench: CIFAR-10-C generator…\n');
    const { benchmarkCorruptions } = await import('../bench/corruptions');
    corruptions = await benchmarkCorruptions({
      count: tiny ? 4 : corruptionImages,
      workers: tiny ? 2 : undefined,
      data: values.data,
      frost: values.frost ?? process.env.MOCO_ROBUST_FROST,
    });
  }
  let torch: TorchReference[] | undefined;
  let ratios: Ratios | undefined;
  let comparison: ReturnType<typeof summarizeRounds> | undefined;
  if (torchScript) {
    const { runTorchReference } = await import('../bench/torch-reference');
    const measured = results.filter((r): r is BackendMeasurement => 'workloads' in r && r.workloads !== undefined);
    const reference = (python: string) => {
      process.stderr.write(`bench: PyTorch reference (${python})…\n`);
      return runTorchReference({
        script: torchScript,
        python,
        batch: measured[0]?.workloads?.batch ?? 32,
        reps: tiny ? 1 : 3,
        architecture: tiny ? undefined : values.architecture,
      });
    };
    if (rounds === 1) {
      torch = pythons.map(reference);
      ratios = Object.fromEntries(torch.map((t) => [torchLabel(t, torch!), ratiosAgainst(results, t)]));
    } else {
      const compared = (backend: string) => {
        process.stderr.write(`bench: compared workloads on ${backend}…\n`);
        const m = benchChild<ComparedMeasurement>(bin, ['--compared-child', backend, ...childFlags], wasmThreads);
        if ('error' in m) throw new UsageError(`bench: --rounds: ${backend} failed: ${m.error}`);
        return m;
      };
      comparison = summarizeRounds(
        interleavedRounds(
          rounds,
          measured.map((m) => m.backend),
          pythons,
          compared,
          reference,
        ),
      );
      torch = comparison.torch;
      ratios = comparison.ratios;
    }
  }
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    node: process.version,
    tfjs: '4.22.0',
    date: new Date().toISOString(),
    tiny,
  };
  const report = {
    machine,
    results,
    corruptions,
    torch,
    ratios,
    ...(comparison ? { ratioRanges: comparison.ratioRanges, rounds: comparison.rounds } : {}),
  };
  const outDir = resolve(values.out!);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-${machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  process.stdout.write(formatBench(report));
  process.stdout.write(`\nwritten to ${file}\n`);
  return 0;
}

/** Runs `bench <args>` in its own process and parses the JSON it prints last, or says why it failed. */
function benchChild<T>(bin: string, args: string[], env: NodeJS.ProcessEnv): T | { error: string } {
  const child = spawnSync(process.execPath, [bin, 'bench', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', ...env },
    maxBuffer: 1 << 26,
  });
  const lastLine = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status === 0 && lastLine.startsWith('{')) return JSON.parse(lastLine) as T;
  const lines = child.stderr.trim().split('\n');
  return { error: (lines.find((l) => l.startsWith('moco-robust:')) ?? lines.pop() ?? 'failed').slice(0, 200) };
}

/** Ours / PyTorch images/s: by PyTorch label, backend and compared workload. */
type Ratios = Record<string, Record<string, Record<string, number | null>>>;
/** The smallest and largest of the rounds' ratios, keyed as {@link Ratios}. */
type RatioRanges = Record<string, Record<string, Record<string, [number, number]>>>;

/** One round of `--rounds`: what ran in which order, and what each measured. */
export interface ComparisonRound {
  order: string[];
  ours: ComparedMeasurement[];
  torch: TorchReference[];
}

/**
 * `rounds` rounds of our backends' compared workloads and each PyTorch reference, each in its own process; even rounds
 * run ours first, odd rounds the references first (A B … B A), so a machine whose speed drifts steadily favours
 * neither side in the median.
 */
export function interleavedRounds(
  rounds: number,
  backends: readonly string[],
  pythons: readonly string[],
  ours: (backend: string) => ComparedMeasurement,
  reference: (python: string) => TorchReference,
): ComparisonRound[] {
  const steps = [...backends.map((b) => ({ backend: b })), ...pythons.map((p) => ({ python: p }))];
  return Array.from({ length: rounds }, (_, r) => {
    const round: ComparisonRound = { order: [], ours: [], torch: [] };
    const measured = new Map<string, ComparedMeasurement | TorchReference>();
    for (const step of r % 2 === 0 ? steps : [...steps].reverse()) {
      const key = 'backend' in step ? step.backend : step.python;
      round.order.push('backend' in step ? step.backend : `PyTorch (${step.python})`);
      measured.set(key, 'backend' in step ? ours(step.backend) : reference(step.python));
    }
    round.ours = backends.map((b) => measured.get(b) as ComparedMeasurement);
    round.torch = pythons.map((p) => measured.get(p) as TorchReference);
    return round;
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * The rounds' summary: each reference's median images/s per workload, and per backend and workload the median of the
 * rounds' ratios (each ratio from one round: ours and the reference measured minutes apart, not a whole run apart)
 * with their range.
 */
export function summarizeRounds(rounds: ComparisonRound[]) {
  const first = rounds[0]!;
  const torch = first.torch.map((t, i) => ({
    ...t,
    imagesPerSecond: Object.fromEntries(
      TORCH_WORKLOADS.map((w) => [w, median(rounds.map((round) => round.torch[i]!.imagesPerSecond[w]!))]),
    ),
  }));
  const ratios: Ratios = {};
  const ratioRanges: RatioRanges = {};
  first.torch.forEach((t, i) => {
    const label = torchLabel(t, first.torch);
    ratios[label] = {};
    ratioRanges[label] = {};
    first.ours.forEach((o, j) => {
      ratios[label]![o.backend] = {};
      ratioRanges[label]![o.backend] = {};
      for (const w of TORCH_WORKLOADS) {
        const perRound = rounds.map((round) => round.ours[j]!.imagesPerSecond[w] / round.torch[i]!.imagesPerSecond[w]!);
        ratios[label]![o.backend]![w] = median(perRound);
        ratioRanges[label]![o.backend]![w] = [Math.min(...perRound), Math.max(...perRound)];
      }
    });
  });
  return { torch, ratios, ratioRanges, rounds };
}

/** `PyTorch 2.13.0+cpu`, with the interpreter when two references share a version. */
export const torchLabel = (t: { torch: string; python: string }, all: ReadonlyArray<{ torch: string }>) =>
  all.filter((o) => o.torch === t.torch).length > 1 ? `PyTorch ${t.torch} (${t.python})` : `PyTorch ${t.torch}`;

/** Ours / PyTorch images/s per backend and compared workload. */
function ratiosAgainst(
  results: Array<BackendMeasurement | { backend: string; error: string }>,
  torch: TorchReference,
): Ratios[string] {
  const ratios: Ratios[string] = {};
  for (const r of results) {
    if (!('workloads' in r) || !r.workloads) continue;
    const w = r.workloads;
    const ours: Record<string, number> = {
      infer: w.infer,
      sup_pgd: w.supPgd,
      moco_adv_step: w.mocoAdvStep,
      sup_adv_step: w.supAdvStep,
    };
    ratios[r.backend] = Object.fromEntries(
      Object.entries(ours).map(([k, v]) => [k, torch.imagesPerSecond[k] ? v / torch.imagesPerSecond[k] : null]),
    );
  }
  return ratios;
}

/** A backend's name in the tables: wasm with its threads, node with whose convolutions ran. */
const label = (r: Pick<BackendMeasurement, 'backend' | 'threads' | 'convolution'>) =>
  r.threads !== undefined && r.threads > 1
    ? `${r.backend} (${r.threads} threads)`
    : r.convolution?.startsWith('oneDNN')
      ? `${r.backend} (${r.convolution} convolutions)`
      : r.backend;

/** `bench --memory`: each measurement in its own process, then the tables (or JSON) and a file in `out`. */
async function runMemory(
  bin: string,
  backends: string[],
  options: {
    tiny: boolean;
    batch: number;
    tensorSteps: number;
    torch?: { script: string; pythons: string[] };
  },
  out: string,
  json: boolean,
): Promise<number> {
  const { formatMemory, runMemoryBenchmark } = await import('../bench/memory');
  const memory = runMemoryBenchmark({ bin, backends, ...options });
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    node: process.version,
    tfjs: '4.22.0',
    date: new Date().toISOString(),
    tiny: options.tiny,
  };
  const outDir = resolve(out);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `memory-${machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ machine, memory }, null, 2)}\n`);
  process.stdout.write(
    json ? `${JSON.stringify({ machine, memory })}\n` : `${formatMemory(memory)}\nwritten to ${file}\n`,
  );
  return memory.errors.length > 0 ? 1 : 0;
}

/** The benchmark's Markdown tables. */
export function formatBench(report: {
  machine: { cpus: number; model?: string; node: string; tiny: boolean };
  results: Array<BackendMeasurement | { backend: string; error: string }>;
  corruptions?: CorruptionBenchmark;
  torch?: TorchReference[];
  ratios?: Ratios;
  ratioRanges?: RatioRanges;
  rounds?: ComparisonRound[];
}): string {
  const out: string[] = [
    `machine: ${report.machine.cpus}× ${report.machine.model}, Node ${report.machine.node}, tfjs ` +
      `4.22.0${report.machine.tiny ? ' (tiny shapes: a harness check, not a measurement)' : ''}`,
    '',
  ];
  out.push(
    '| backend | conv fwd GFLOP/s | conv input-grad | conv filter-grad ' +
      '| model | forward img/s | train step img/s | dataSync ns/element |',
    '|---|---:|---:|---:|---|---:|---:|---:|',
  );
  for (const r of report.results) {
    if ('error' in r) out.push(`| ${r.backend} | failed: ${r.error} | | | | | |`);
    else
      out.push(
        `| ${label(r)} | ${fmt(r.conv.forward)} | ${fmt(r.conv.inputGradient)} ` +
          `| ${fmt(r.conv.filterGradient)} (batch ${r.conv.shape.batch}) ` +
          `| ${r.resnet.architecture} b${r.resnet.batch} | ${fmt(r.resnet.forward)} ` +
          `| ${fmt(r.resnet.trainStep)} | ${fmt(r.readNsPerElement)} |`,
      );
  }
  out.push(
    '',
    '| backend | model | FGSM | PGD-k | MoCo-PGD-k | adv. fine-tuning step (PGD-k) | ' +
      'pre-training step: plain | MoCo-FGSM | MoCo-PGD-k | MoCo-v2 augmentation (b128) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of report.results) {
    if ('error' in r) continue;
    const w = r.workloads;
    out.push(
      w
        ? `| ${label(r)} | ${w.architecture} b${w.batch}, k=${w.attackSteps} ` +
            `| ${fmt(w.fgsm)} | ${fmt(w.supPgd)} | ${fmt(w.mocoPgd)} | ` +
            `${fmt(w.supAdvStep)} | ${fmt(w.mocoStep)} | ${fmt(w.mocoFgsmStep)} ` +
            `| ${fmt(w.mocoAdvStep)} | ${fmt(r.augmentation.imagesPerSecond)} |`
        : `| ${r.backend} | (skipped: minutes per step on the pure-JS ` +
            `backend) | | | | | | | | ${fmt(r.augmentation.imagesPerSecond)} |`,
    );
  }
  out.push('', 'images/s throughout.');
  const c = report.corruptions;
  if (c) {
    out.push(
      '',
      `CIFAR-10-C generator, ${c.images} images (${c.source}), source images/s through all ` +
        `5 severities; ${c.workers} workers${c.frost ? '' : '; frost skipped (no textures)'}:`,
      '',
      '| corruption | 1 thread | workers |',
      '|---|---:|---:|',
    );
    for (const name of Object.keys(c.single.perCorruption))
      out.push(`| ${name} | ${fmt(c.single.perCorruption[name])} | ${fmt(c.parallel.perCorruption[name])} |`);
    out.push(`| **all 19 × 5** (wall clock) | **${fmt(c.single.overall)}** | **${fmt(c.parallel.overall)}** |`);
    out.push(
      `| peak RSS of the process, MiB (${fmt(c.memory.startMiB)} at the start) ` +
        `| ${fmt(c.memory.singlePeakMiB)} | ${fmt(c.memory.parallelPeakMiB)} |`,
    );
  }
  const rounds = report.rounds?.length ?? 1;
  for (const t of report.torch ?? []) {
    const label = torchLabel(t, report.torch!);
    const ratios = report.ratios?.[label] ?? {};
    const ranges = report.ratioRanges?.[label];
    const backends = Object.keys(ratios);
    const cell = (b: string, w: string) => {
      const range = ranges?.[b]?.[w];
      return range ? `${fmt(ratios[b]![w])} (${fmt(range[0])}–${fmt(range[1])})` : fmt(ratios[b]![w]);
    };
    out.push(
      '',
      `Against ${label} CPU (${t.threads} threads, ${t.malloc} malloc), same machine, same run — images/s ratios ` +
        (rounds > 1
          ? `(ours / PyTorch), the median of ${rounds} interleaved rounds (their range), PyTorch's median images/s:`
          : '(ours / PyTorch):'),
      '',
      `| workload | PyTorch img/s | ${backends.map((b) => `${b} ×`).join(' | ')} |`,
      `|---|---:|${backends.map(() => '---:').join('|')}|`,
    );
    for (const workload of TORCH_WORKLOADS)
      out.push(
        `| ${workload} | ${fmt(t.imagesPerSecond[workload])} | ${backends.map((b) => cell(b, workload)).join(' | ')} |`,
      );
  }
  if (report.rounds && report.rounds.length > 1)
    out.push('', `rounds, in order: ${report.rounds.map((r) => r.order.join(' → ')).join('; ')}`);
  return `${out.join('\n')}\n`;
}
