// `moco-robust bench --memory`: memory of a large adversarial pre-training step per backend and glibc
// malloc setting (each in its own process: malloc reads its settings at start-up), and the tensor
// count over many training steps of a tiny model.
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, selectBackend, type BackendName } from '@moco-robust/core';
import { MOCO_V2_AUGMENTATION, twoViews } from '@moco-robust/data';
import { createResnetEncoder, projectionHead, type ResnetPreset } from '@moco-robust/models';
import { mocoTask, pretrain } from '@moco-robust/moco';
import { benchmarkPretrain } from '@moco-robust/moco/bench';
import { measureTorchStepMemory, type TorchStepMemory } from './torch-reference';

/**
 * glibc malloc settings PyTorch's reference uses with `--tuned-malloc`: keep freed big blocks in the heap instead of
 * `munmap` (and page faults) per tensor.
 */
export const TUNED_MALLOC_ENVIRONMENT = {
  MALLOC_MMAP_THRESHOLD_: String(2 ** 32),
  MALLOC_TRIM_THRESHOLD_: String(2 ** 36),
  MALLOC_TOP_PAD_: String(2 ** 30),
} as const;

/** One MoCo-PGD pre-training run at a large batch, measured from inside its process. */
export interface StepMemory {
  backend: string;
  malloc: 'default' | 'tuned';
  architecture: string;
  batch: number;
  attackSteps: number;
  /** Steps run, the first of them a warm-up. */
  steps: number;
  imagesPerSecond: number;
  /** Resident memory: before building the model, and the process's peak. */
  startMiB: number;
  peakMiB: number;
  /**
   * Per step (warm-up included): minor page faults and system CPU seconds, where glibc's `mmap`/`munmap` per big tensor
   * shows.
   */
  minorPageFaultsPerStep: number;
  systemSecondsPerStep: number;
  userSecondsPerStep: number;
}

/** The tensor count of a long tiny pre-training run (MoCo-PGD-1), sampled after every step. */
export interface TensorCountTrace {
  backend: string;
  architecture: string;
  batch: number;
  steps: number;
  /** Tensors alive after step 1, after the last step, and the range over all steps after the first. */
  afterFirstStep: number;
  afterLastStep: number;
  min: number;
  max: number;
  /** Tensors alive after the run minus before it (the task and models disposed): 0 when nothing leaked. */
  leaked: number;
  /** Resident memory after the first step and at the end: growth would show a leak outside tfjs's count. */
  rssAfterFirstStepMiB: number;
  rssAtEndMiB: number;
  seconds: number;
}

const mib = (bytes: number) => bytes / 2 ** 20;

/**
 * Runs `steps` MoCo-PGD-k pre-training steps (the first a warm-up) at `batch` on `backend` in this process and reports
 * its memory.
 */
export async function measureStepMemory(
  backend: BackendName,
  options: { architecture: ResnetPreset; batch: number; steps: number; attackSteps: number },
): Promise<StepMemory> {
  const startMiB = mib(process.memoryUsage().rss);
  await selectBackend({ backend });
  const usage = process.resourceUsage();
  const result = await benchmarkPretrain({
    architecture: options.architecture,
    batch: options.batch,
    steps: options.steps - 1,
    attackSteps: options.attackSteps,
    attack: 'pgd',
  });
  const after = process.resourceUsage();
  return {
    backend,
    malloc: process.env.MALLOC_MMAP_THRESHOLD_ ? 'tuned' : 'default',
    architecture: options.architecture,
    batch: options.batch,
    attackSteps: options.attackSteps,
    steps: options.steps,
    imagesPerSecond: result.imagesPerSecond,
    startMiB,
    peakMiB: after.maxRSS / 1024,
    minorPageFaultsPerStep: (after.minorPageFault - usage.minorPageFault) / options.steps,
    systemSecondsPerStep: (after.systemCPUTime - usage.systemCPUTime) / 1e6 / options.steps,
    userSecondsPerStep: (after.userCPUTime - usage.userCPUTime) / 1e6 / options.steps,
  };
}

/**
 * Pre-trains a tiny ResNet with MoCo-PGD-1 for `steps` steps on random images and records the tensor count after every
 * step.
 */
export async function traceTensorCount(
  backend: BackendName,
  options: { steps: number; batch?: number; architecture?: ResnetPreset },
): Promise<TensorCountTrace> {
  await selectBackend({ backend });
  const architecture = options.architecture ?? 'resnet6-w8';
  const batch = options.batch ?? 8;
  const before = tf.memory().numTensors;
  const stepsPerEpoch = Math.min(options.steps, 50);
  const count = batch * stepsPerEpoch;
  const rng = Rng.fromSeed(1);
  const images = new Uint8Array(count * 3072);
  for (let i = 0; i < images.length; i++) images[i] = rng.nextUint32() & 255;
  const encoder = createResnetEncoder({ architecture, rng: 2 });
  const task = mocoTask({
    version: 'v2',
    augment: (x, r) => twoViews(x, MOCO_V2_AUGMENTATION, r),
    projectionHead: (o) => projectionHead(o),
    queueSize: batch * 4,
  });
  const counts: number[] = [];
  let rssAfterFirstStepMiB = 0;
  const started = performance.now();
  const { heads } = await pretrain({
    task,
    encoder,
    data: { images, count },
    config: {
      seed: 3,
      epochs: Math.ceil(options.steps / stepsPerEpoch),
      batchSize: batch,
      attack: { kind: 'pgd', steps: 1 },
      checkpoint: { everyEpochs: 0 },
      knn: { everyEpochs: 0 },
      logEvery: 1,
    }, // a step-end event (one scalar read) per step
    onEvent: (event) => {
      if (event.type !== 'step-end') return;
      counts.push(tf.memory().numTensors);
      if (counts.length === 1) rssAfterFirstStepMiB = mib(process.memoryUsage().rss);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const rssAtEndMiB = mib(process.memoryUsage().rss);
  task.dispose?.();
  for (const head of Object.values(heads)) (head as unknown as { dispose(): void }).dispose();
  encoder.model.dispose();
  const later = counts.slice(1);
  return {
    backend,
    architecture,
    batch,
    steps: counts.length,
    afterFirstStep: counts[0],
    afterLastStep: counts[counts.length - 1],
    min: Math.min(...later),
    max: Math.max(...later),
    leaked: tf.memory().numTensors - before,
    rssAfterFirstStepMiB,
    rssAtEndMiB,
    seconds,
  };
}

/** What `bench --memory` measured. */
export interface MemoryReport {
  steps: StepMemory[];
  /** PyTorch's peak for the same step, per reference and allocator, measured in the same run (`--compare-torch`). */
  torch: TorchStepMemory[];
  tensorCounts: TensorCountTrace[];
  errors: Array<{ backend: string; what: string; error: string }>;
}

/**
 * Runs each measurement in a child process (`bin bench --memory-child …`) with and without {@link
 * TUNED_MALLOC_ENVIRONMENT}.
 */
export function runMemoryBenchmark(options: {
  bin: string;
  backends: string[];
  tiny: boolean;
  batch: number;
  tensorSteps: number;
  torch?: { script: string; pythons: string[] };
}): MemoryReport {
  const report: MemoryReport = { steps: [], torch: [], tensorCounts: [], errors: [] };
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_')));
  const child = (args: string[], env: Record<string, string | undefined>) => {
    const run = spawnSync(process.execPath, [options.bin, 'bench', ...args, ...(options.tiny ? ['--tiny'] : [])], {
      encoding: 'utf8',
      env: { ...env, TF_CPP_MIN_LOG_LEVEL: '3' },
      maxBuffer: 1 << 24,
    });
    const last = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !last.startsWith('{'))
      throw new Error(
        (
          run.stderr
            .trim()
            .split('\n')
            .find((l) => l.startsWith('moco-robust:')) ??
          run.stderr.trim().split('\n').pop() ??
          'failed'
        ).slice(0, 200),
      );
    return JSON.parse(last);
  };
  for (const backend of options.backends) {
    for (const malloc of ['default', 'tuned'] as const) {
      process.stderr.write(
        `bench: memory of a batch-${options.batch} MoCo-PGD step on ${backend}, ${malloc} malloc…\n`,
      );
      try {
        report.steps.push(
          child(
            ['--memory-child', `step:${backend}`, '--memory-batch', String(options.batch)],
            malloc === 'tuned' ? { ...clean, ...TUNED_MALLOC_ENVIRONMENT } : clean,
          ),
        );
      } catch (error) {
        report.errors.push({ backend, what: `step, ${malloc} malloc`, error: (error as Error).message });
      }
    }
    if (options.tensorSteps > 0) {
      process.stderr.write(
        `bench: tensor count over ${options.tensorSteps} ` + `tiny pre-training steps on ${backend}…\n`,
      );
      try {
        report.tensorCounts.push(
          child(['--memory-child', `tensors:${backend}`, '--memory-steps', String(options.tensorSteps)], clean),
        );
      } catch (error) {
        report.errors.push({ backend, what: 'tensor count', error: (error as Error).message });
      }
    }
  }
  for (const python of options.torch?.pythons ?? [])
    for (const malloc of ['default', 'tuned'] as const) {
      process.stderr.write(`bench: PyTorch's memory of the same step (${python}), ${malloc} malloc…\n`);
      try {
        report.torch.push(
          measureTorchStepMemory({
            script: options.torch!.script,
            python,
            malloc,
            ...(options.tiny
              ? { architecture: 'resnet18', batch: 2, reps: 1 }
              : { architecture: 'resnet18', batch: options.batch, reps: 2 }),
          }),
        );
      } catch (error) {
        report.errors.push({
          backend: python,
          what: `PyTorch step, ${malloc} malloc`,
          error: (error as Error).message,
        });
      }
    }
  return report;
}

/** Runs one measurement of {@link runMemoryBenchmark} in this (child) process. */
export async function runMemoryChild(
  spec: string,
  options: { tiny: boolean; batch: number; tensorSteps: number },
): Promise<StepMemory | TensorCountTrace> {
  const [what, backend] = spec.split(':') as ['step' | 'tensors', BackendName];
  if (what === 'tensors') return traceTensorCount(backend, { steps: options.tensorSteps });
  return measureStepMemory(
    backend,
    options.tiny
      ? { architecture: 'resnet6-w8', batch: 8, steps: 2, attackSteps: 2 }
      : { architecture: 'resnet18', batch: options.batch, steps: 3, attackSteps: 10 },
  );
}

const fixed = (v: number, digits = 0) => v.toFixed(digits);

/** The memory report's Markdown tables. */
export function formatMemory(report: MemoryReport): string {
  const out = [
    '| backend | model | malloc | peak RSS MiB | RSS at start MiB | minor ' +
      'page faults / step | system s / step | user s / step | images/s |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of report.steps)
    out.push(
      `| ${s.backend} | ${s.architecture} b${s.batch}, MoCo-PGD-${s.attackSteps}, ` +
        `${s.steps} steps | ${s.malloc} | ${fixed(s.peakMiB)} | ${fixed(s.startMiB)} ` +
        `| ${fixed(s.minorPageFaultsPerStep)} | ${fixed(s.systemSecondsPerStep, 2)} ` +
        `| ${fixed(s.userSecondsPerStep, 2)} | ${fixed(s.imagesPerSecond, 2)} |`,
    );
  for (const t of report.torch)
    out.push(
      `| PyTorch ${t.torch} | ${t.architecture} b${t.batch}, ${t.workload} | ${t.malloc} | ${fixed(t.peakMiB)} ` +
        `| | | | | ${fixed(t.imagesPerSecond, 2)} |`,
    );
  const peers = report.steps.flatMap((s) =>
    report.torch.filter((t) => t.malloc === s.malloc && t.batch === s.batch).map((t) => ({ s, t })),
  );
  if (peers.length > 0) {
    out.push(
      '',
      '| backend | malloc | against | peak RSS ours / PyTorch |',
      '|---|---|---|---:|',
      ...peers.map(
        ({ s, t }) => `| ${s.backend} | ${s.malloc} | PyTorch ${t.torch} | ${fixed(s.peakMiB / t.peakMiB, 2)}× |`,
      ),
    );
  }
  if (report.tensorCounts.length > 0) {
    out.push(
      '',
      '| backend | tiny run | steps | tensors after step 1 | min – max after | after ' +
        'the last | leaked after disposal | RSS MiB after step 1 → end | seconds |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const t of report.tensorCounts)
      out.push(
        `| ${t.backend} | ${t.architecture} b${t.batch}, MoCo-PGD-1 ` +
          `| ${t.steps} | ${t.afterFirstStep} | ${t.min} – ${t.max} | ` +
          `${t.afterLastStep} | ${t.leaked} | ${fixed(t.rssAfterFirstStepMiB)} ` +
          `→ ${fixed(t.rssAtEndMiB)} | ${fixed(t.seconds)} |`,
      );
  }
  for (const e of report.errors) out.push('', `${e.backend} (${e.what}) failed: ${e.error}`);
  return `${out.join('\n')}\n`;
}
