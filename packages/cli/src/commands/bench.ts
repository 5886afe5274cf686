import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '@moco-robust/core';
import type { CorruptionBenchmark } from '../bench/corruptions';
import type { BackendMeasurement } from '../bench/measure';
import type { TorchReference } from '../bench/torch-reference';
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
  const results: Array<BackendMeasurement | { backend: string; error: string }> = [];
  for (const backend of backends) {
    process.stderr.write(`bench: measuring ${backend}…\n`);
    const child = spawnSync(
      process.execPath,
      [
        bin,
        'bench',
        '--child',
        backend,
        ...(tiny ? ['--tiny'] : []),
        ...(values.architecture ? ['--architecture', values.architecture] : []),
      ],
      { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', ...wasmThreads }, maxBuffer: 1 << 26 },
    );
    const lastLine = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || !lastLine.startsWith('{')) {
      const lines = child.stderr.trim().split('\n');
      results.push({
        backend,
        error: (lines.find((l) => l.startsWith('moco-robust:')) ?? lines.pop() ?? 'failed').slice(0, 200),
      });
      continue;
    }
    results.push(JSON.parse(lastLine) as BackendMeasurement);
  }
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
  let ratios: Record<string, Record<string, Record<string, number | null>>> | undefined;
  if (torchScript) {
    const { runTorchReference } = await import('../bench/torch-reference');
    const measured = results.find((r): r is BackendMeasurement => 'workloads' in r && r.workloads !== undefined);
    torch = pythons.map((python) => {
      process.stderr.write(`bench: PyTorch reference (${python})…\n`);
      return runTorchReference({
        script: torchScript,
        python,
        batch: measured?.workloads?.batch ?? 32,
        reps: tiny ? 1 : 3,
        architecture: tiny ? undefined : values.architecture,
      });
    });
    ratios = Object.fromEntries(torch.map((t) => [torchLabel(t, torch!), ratiosAgainst(results, t)]));
  }
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    node: process.version,
    tfjs: '4.22.0',
    date: new Date().toISOString(),
    tiny,
  };
  const report = { machine, results, corruptions, torch, ratios };
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

/** `PyTorch 2.13.0+cpu`, with the interpreter when two references share a version. */
export const torchLabel = (t: { torch: string; python: string }, all: ReadonlyArray<{ torch: string }>) =>
  all.filter((o) => o.torch === t.torch).length > 1 ? `PyTorch ${t.torch} (${t.python})` : `PyTorch ${t.torch}`;

/** Ours / PyTorch images/s per backend and compared workload. */
function ratiosAgainst(
  results: Array<BackendMeasurement | { backend: string; error: string }>,
  torch: TorchReference,
): Record<string, Record<string, number | null>> {
  const ratios: Record<string, Record<string, number | null>> = {};
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

const label = (r: BackendMeasurement) =>
  r.threads !== undefined && r.threads > 1 ? `${r.backend} (${r.threads} threads)` : r.backend;

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
  ratios?: Record<string, Record<string, Record<string, number | null>>>;
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
  for (const t of report.torch ?? []) {
    const ratios = report.ratios?.[torchLabel(t, report.torch!)] ?? {};
    const backends = Object.keys(ratios);
    out.push(
      '',
      `Against ${torchLabel(t, report.torch!)} CPU (${t.threads} threads, ${t.malloc} malloc), ` +
        'same machine, same run — images/s ratios (ours / PyTorch):',
      '',
      `| workload | PyTorch img/s | ${backends.map((b) => `${b} ×`).join(' | ')} |`,
      `|---|---:|${backends.map(() => '---:').join('|')}|`,
    );
    for (const workload of ['infer', 'sup_pgd', 'moco_adv_step', 'sup_adv_step'])
      out.push(
        `| ${workload} | ${fmt(t.imagesPerSecond[workload])} | ` +
          `${backends.map((b) => fmt(ratios[b]![workload])).join(' | ')} |`,
      );
  }
  return `${out.join('\n')}\n`;
}
