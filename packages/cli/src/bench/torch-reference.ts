import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../usage-error';

/** The PyTorch reference's images/s per workload, with its versions. */
export interface TorchReference {
  /** The interpreter that ran it (one reference per `--python`). */
  python: string;
  torch: string;
  threads: number;
  malloc: string;
  imagesPerSecond: Record<string, number>;
}

/** Workloads compared (the reference's names). */
export const TORCH_WORKLOADS = ['infer', 'sup_pgd', 'moco_adv_step', 'sup_adv_step'] as const;

/** The reference script's command line for one configuration, its results written to `dir`. */
function referenceArguments(
  script: string,
  dir: string,
  run: { tunedMalloc: boolean; config: string; workloads: readonly string[]; reps: number },
): string[] {
  return [
    script,
    ...(run.tunedMalloc ? ['--tuned-malloc'] : []),
    '--skip-micro',
    ['--configs', run.config],
    ['--workloads', run.workloads.join(',')],
    ['--reps', String(run.reps)],
    ['--json', join(dir, 'r.json')],
    ['--md', join(dir, 'r.md')],
  ].flat();
}

/**
 * Runs the PyTorch CPU reference script (`--torch-script`; the repository's `npm run bench` passes the workplace's
 * `torch_ref.py`) for ResNet-18 at `batch` beside our measurement, in the same run, with the tuned allocator it
 * recommends.
 */
export function runTorchReference(options: {
  script: string;
  python: string;
  batch: number;
  reps: number;
  architecture?: string;
}): TorchReference {
  if (!existsSync(options.script))
    throw new UsageError(
      `bench: --compare-torch needs the PyTorch reference script; ` +
        `${options.script} does not exist (pass --torch-script)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'mr-torch-'));
  try {
    const args = referenceArguments(options.script, dir, {
      tunedMalloc: true,
      config: `${options.architecture ?? 'resnet18'}:${options.batch}`,
      workloads: TORCH_WORKLOADS,
      reps: options.reps,
    });
    const run = spawnSync(options.python, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (run.status !== 0)
      throw new UsageError(
        `bench: the PyTorch reference failed (${options.python} ` +
          `${options.script}): ${(run.stderr || run.stdout).trim().split('\n').pop()}`,
      );
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as {
      meta: { torch: string; threads: number };
      results: Array<{ workload: string; images_per_s: number; malloc: string }>;
    };
    return {
      python: options.python,
      torch: report.meta.torch,
      threads: report.meta.threads,
      malloc: report.results[0]?.malloc ?? 'unknown',
      imagesPerSecond: Object.fromEntries(report.results.map((r) => [r.workload, r.images_per_s])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PyTorch's peak resident memory over one reference run of a single workload, measured by the parent Python. */
export interface TorchStepMemory {
  python: string;
  torch: string;
  malloc: 'default' | 'tuned';
  architecture: string;
  batch: number;
  workload: string;
  /** Peak RSS of the process that ran the reference (interpreter, torch and the step), MiB. */
  peakMiB: number;
  imagesPerSecond: number;
}

// Runs argv[1:] as a child and prints the child's peak RSS (getrusage of the children: the reference may re-exec itself
// with the tuned allocator, which keeps the process, so the peak is still counted).
const PEAK_RSS_WRAPPER =
  'import json, resource, subprocess, sys\n' +
  'code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n' +
  'print(json.dumps({"status": code, "maxRssKiB": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n';

/**
 * Measures the peak memory of the reference's MoCo-PGD-10 adversarial pre-training step (`moco_adv_step`) at `batch`,
 * with the default or the tuned glibc allocator: the same workload `bench --memory` measures for our backends.
 */
export function measureTorchStepMemory(options: {
  script: string;
  python: string;
  batch: number;
  architecture: string;
  malloc: 'default' | 'tuned';
  reps: number;
}): TorchStepMemory {
  if (!existsSync(options.script))
    throw new UsageError(`bench: the PyTorch reference script ${options.script} does not exist (pass --torch-script)`);
  const dir = mkdtempSync(join(tmpdir(), 'mr-torch-memory-'));
  try {
    const args = [
      '-c',
      PEAK_RSS_WRAPPER,
      options.python,
      ...referenceArguments(options.script, dir, {
        tunedMalloc: options.malloc === 'tuned',
        config: `${options.architecture}:${options.batch}`,
        workloads: ['moco_adv_step'],
        reps: options.reps,
      }),
    ];
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_')));
    const run = spawnSync(options.python, args, { encoding: 'utf8', env, maxBuffer: 1 << 24 });
    const last = run.stdout.trim().split('\n').pop() ?? '';
    const measured = last.startsWith('{') ? (JSON.parse(last) as { status: number; maxRssKiB: number }) : undefined;
    if (run.status !== 0 || !measured || measured.status !== 0) {
      const why = run.stderr.trim().split('\n').pop();
      throw new UsageError(
        `bench: the PyTorch reference failed (${options.python} ${options.script}, moco_adv_step at batch ` +
          `${options.batch}): exit ${measured?.status ?? run.status}${why ? `, ${why}` : ''}`,
      );
    }
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as {
      meta: { torch: string };
      results: Array<{ workload: string; images_per_s: number }>;
    };
    return {
      python: options.python,
      torch: report.meta.torch,
      malloc: options.malloc,
      architecture: options.architecture,
      batch: options.batch,
      workload: 'moco_adv_step',
      peakMiB: measured.maxRssKiB / 1024,
      imagesPerSecond: report.results.find((r) => r.workload === 'moco_adv_step')?.images_per_s ?? 0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
