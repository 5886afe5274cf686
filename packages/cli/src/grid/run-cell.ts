import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { atomicWriteFile, selectBackend, type BackendName } from '@moco-robust/core';
import type { Cifar10Images, FrostTexture } from '@moco-robust/data';
import { pretrainingLabels, type RunReport } from '@moco-robust/eval';
import type { RunConfig } from '../presets';
import { ProgressRenderer } from '../progress';
import { loadRunData } from '../run/data';
import { loadModelFrom, runEval, runFinetune, runPretrain } from '../run/pipeline';
import type { RunDir } from '../run/run-dir';
import { UsageError } from '../usage-error';
import { cellRunDir } from './cell-run-dir';
import { canonicalJson } from '../canonical-json';
import { cellHash } from './grid-spec';
import { initialEncoder } from './initial-encoder';
import { pretrainingRecord } from '../run/lineage';
import { upgradeRunConfig } from '../upgrade-run-config';

/** What {@link runCell} returns (also `<cell>/result.json`). */
export interface CellResult {
  schema: 'moco-robust/cell-result@1';
  hash: string;
  backend: string;
  /** Seconds per phase of the attempt that finished the phase (a phase finished earlier is absent). */
  phases: { pretrain?: number; finetune?: number; eval?: number };
  report: RunReport;
}

/** Options of {@link runCell}; everything has a default so a worker can call it with a config and a folder. */
export interface RunCellOptions {
  /** Images already loaded (the local grid loads them once); default: read from `dataDir` at the config's sizes. */
  data?: { train: Cifar10Images; test: Cifar10Images };
  /** CIFAR-10 folder (`--data`); default `$MOCO_ROBUST_DATA` or the cache. */
  dataDir?: string;
  frostTextures?: FrostTexture[];
  /** Aborting saves a checkpoint and rejects with an `AbortedError`; the cell resumes from it. */
  signal?: AbortSignal;
  /** Draws progress (default: plain lines on stderr); events also go to `<dir>/events.jsonl`. */
  quiet?: boolean;
  backend?: string;
}

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;
const markDone = (dir: string, seconds: number) =>
  atomicWriteFile(join(dir, 'done.json'), `${JSON.stringify({ seconds, at: new Date().toISOString() })}\n`);

/**
 * Runs one grid cell in `dir` — pre-training (`pretrain/`, skipped for method `none`), adversarial fine-tuning
 * (`finetune/`) and evaluation (`eval/`: clean, FGSM, PGD, AutoAttack when `config.eval.autoAttackVersion` names one,
 * CIFAR-10-C) as the demo does them — and returns its report. Resumable: a phase with
 * `done.json` is not rerun, an unfinished one resumes from its latest checkpoint; each phase starts from the previous
 * phase's saved model (read back from disk), so an interrupted cell ends with the same weights as an uninterrupted one.
 * `dir/config.json` pins the cell: a folder holding another config is refused.
 */
export async function runCell(config: RunConfig, dir: string, options: RunCellOptions = {}): Promise<CellResult> {
  await mkdir(dir, { recursive: true });
  const hash = cellHash(config);
  const configPath = join(dir, 'config.json');
  if (existsSync(configPath)) {
    const saved = upgradeRunConfig(await readJson<Record<string, unknown>>(configPath)); // an older CLI's cell too
    if (canonicalJson(saved) !== canonicalJson(config))
      throw new UsageError(
        `grid: ${dir} holds another cell (config hash ${cellHash(saved)}, expected ${hash}); nothing was changed`,
      );
  } else {
    await atomicWriteFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
  }
  const renderer = new ProgressRenderer({ logFile: join(dir, 'events.jsonl'), quiet: options.quiet });
  const selection = await selectBackend({
    backend: (options.backend ?? config.backend) as BackendName | undefined,
    onEvent: renderer.listener,
  });
  const { train, test } = options.data ?? (await loadRunData(options.dataDir, config));
  const signal = options.signal ?? new AbortController().signal;
  const phaseRun = (phase: string): RunDir =>
    cellRunDir({ out: dir, renderer, signal, resumed: existsSync(join(dir, phase, 'checkpoints')) });
  const phases: CellResult['phases'] = {};
  const timed = async (phase: 'pretrain' | 'finetune' | 'eval', work: () => Promise<void>) => {
    const phaseDir = join(dir, phase);
    if (existsSync(join(phaseDir, 'done.json'))) return;
    const start = performance.now();
    await work();
    phases[phase] = (performance.now() - start) / 1000;
    await markDone(phaseDir, phases[phase]!);
  };
  const p = config.pretrain;
  if (p.method !== 'none')
    await timed('pretrain', async () => {
      const { encoder } = await runPretrain(phaseRun('pretrain'), join(dir, 'pretrain'), config, train, test);
      encoder.dispose();
    });
  await timed('finetune', async () => {
    const encoder: tfl.LayersModel =
      p.method === 'none' ? initialEncoder(config) : await loadModelFrom(join(dir, 'pretrain'), 'encoder');
    const result = await runFinetune(phaseRun('finetune'), join(dir, 'finetune'), config, encoder, train);
    result.classifier.model.dispose();
  });
  await timed('eval', async () => {
    const model = await loadModelFrom(join(dir, 'finetune'), 'classifier');
    try {
      await runEval(
        phaseRun('eval'),
        join(dir, 'eval'),
        config,
        model,
        test,
        {
          // AutoAttack when the cell's config names a version (grid --autoattack cpu|standard)
          attacks: ['clean', 'fgsm', 'pgd', ...(config.eval.autoAttackVersion ? (['autoattack'] as const) : [])],
          cifar10c: config.eval.cifar10c,
          frostTextures: options.frostTextures,
        },
        { ...pretrainingLabels(pretrainingRecord(p)), model: config.model.architecture },
      );
    } finally {
      model.dispose();
    }
  });
  const { runs } = await readJson<{ runs: RunReport[] }>(join(dir, 'eval', 'report.json'));
  const result: CellResult = {
    schema: 'moco-robust/cell-result@1',
    hash,
    backend: selection.name,
    phases,
    report: runs[0]!,
  };
  await atomicWriteFile(join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
