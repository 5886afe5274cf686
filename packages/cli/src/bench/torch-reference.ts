import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../usage-error';

/** The PyTorch reference's images/s per workload, with its versions. */
export interface TorchReference {
  torch: string;
  threads: number;
  malloc: string;
  imagesPerSecond: Record<string, number>;
}

/** Workloads compared (the reference's names). */
export const TORCH_WORKLOADS = ['infer', 'sup_pgd', 'moco_adv_step', 'sup_adv_step'] as const;

/**
 * Runs the PyTorch CPU reference (`../shared/bench/torch_ref.py`, Debian's python3-torch) for ResNet-18
 * at `batch` beside our measurement, in the same run, with the tuned allocator it recommends.
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
    const args = [
      options.script,
      '--tuned-malloc',
      '--skip-micro',
      '--configs',
      `${options.architecture ?? 'resnet18'}:${options.batch}`,
      '--workloads',
      TORCH_WORKLOADS.join(','),
      '--reps',
      String(options.reps),
      '--json',
      join(dir, 'r.json'),
      '--md',
      join(dir, 'r.md'),
    ];
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
      torch: report.meta.torch,
      threads: report.meta.threads,
      malloc: report.results[0]?.malloc ?? 'unknown',
      imagesPerSecond: Object.fromEntries(report.results.map((r) => [r.workload, r.images_per_s])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
