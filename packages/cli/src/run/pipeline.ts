import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  CheckpointError,
  FileSystemError,
  fileCheckpointStore,
  latestCheckpoint,
  openCheckpoint,
} from '@moco-robust/core';
import { checkCifar10CFolder, takeImages, type Cifar10CFolder, type Cifar10Images } from '@moco-robust/data';
import {
  collectExamples,
  createRunReport,
  evaluateCorruptions,
  evaluateRobustness,
  finetune,
  generatedCorruptions,
  officialCorruptions,
  pretrainingLabels,
  writeReport,
  type CorruptionResult,
  type FinetuneResult,
  type RobustnessResult,
  type RunReport,
} from '@moco-robust/eval';
import { createResnetEncoder, loadModel, saveModel } from '@moco-robust/models';
import { pretrain, type PretrainResult } from '@moco-robust/moco';
import { finetuneSettings, pretrainSettings, robustnessSettings, type RunConfig } from '../presets';
import { pretrainingRecord } from './lineage';
import { checkpointFaultHook, type RunDir } from './run-dir';
import { pretextTaskFactory } from './tasks';

/**
 * The options every resumable library run takes from a run directory: checkpoints, resume, Ctrl-C, events, metadata.
 */
function runOptions(run: RunDir, dir: string, config: RunConfig) {
  return {
    store: fileCheckpointStore(dir, { onStage: checkpointFaultHook() }),
    resume: run.resumed,
    signal: run.signal,
    onEvent: run.renderer.listener,
    metadata: { run: config },
  };
}

/**
 * Adversarial self-supervised pre-training of the config's encoder; checkpoints under `<dir>/checkpoints`, the final
 * encoder in `<dir>/encoder/`.
 */
export async function runPretrain(
  run: RunDir,
  dir: string,
  config: RunConfig,
  train: Cifar10Images,
  test: Cifar10Images,
  taskFactory?: () => import('@moco-robust/core').PretextTaskV1,
): Promise<{ encoder: tfl.LayersModel; result: PretrainResult }> {
  const p = config.pretrain;
  const encoder = createResnetEncoder({
    architecture: config.model.architecture as never,
    rng: config.seed,
    batchNormGroups: config.model.batchNormGroups,
  });
  const task = (taskFactory ?? (await pretextTaskFactory(config)))();
  const { pretrainAttack } = pretrainingLabels(pretrainingRecord(p));
  run.renderer.startPhase(`pre-training (${p.method}, ${pretrainAttack}, ${config.model.architecture})`);
  const result = await pretrain({
    task,
    encoder,
    data: train,
    knn: { bank: takeImages(train, Math.min(train.count, 2000)), test },
    config: pretrainSettings(config),
    ...runOptions(run, dir, config),
  });
  await saveModel(encoder.model, join(dir, 'encoder'));
  return { encoder: encoder.model, result };
}

/**
 * Adversarial fine-tuning of `encoder` with a new classifier head; checkpoints under `<dir>/checkpoints`, the
 * classifier in `<dir>/model/`.
 */
export async function runFinetune(
  run: RunDir,
  dir: string,
  config: RunConfig,
  encoder: tfl.LayersModel,
  train: Cifar10Images,
): Promise<FinetuneResult> {
  const f = config.finetune;
  run.renderer.startPhase(
    `fine-tuning (${f.mode}, ${f.loss}${f.loss === 'standard' ? '' : `, PGD-${f.attack.steps}`})`,
  );
  const result = await finetune({
    encoder,
    train,
    config: finetuneSettings(config),
    ...runOptions(run, dir, config),
  });
  await saveModel(result.classifier.model, join(dir, 'model'));
  return result;
}

/** What `eval` measures. */
export interface EvalChoice {
  attacks: Array<'clean' | 'fgsm' | 'pgd' | 'autoattack'>;
  cifar10c: boolean;
  /** A folder of the official CIFAR-10-C arrays; otherwise the corruptions are generated. */
  cifar10cDir?: string;
  /** The folder's {@link checkCifar10CFolder} result when the command checked it up front. */
  cifar10cFolder?: Cifar10CFolder;
  frostTextures?: import('@moco-robust/data').FrostTexture[];
}

/**
 * Clean / FGSM / PGD and CIFAR-10-C evaluation of a classifier, and the run's report (report.json, report.md, charts,
 * index.html) in `dir`.
 */
export async function runEval(
  run: RunDir,
  dir: string,
  config: RunConfig,
  model: tfl.LayersModel,
  test: Cifar10Images,
  choice: EvalChoice,
  describe: Omit<RunReport, 'schema' | 'createdAt' | 'notes' | 'robustness' | 'corruptions'>,
): Promise<{ report: RunReport; html: string; markdown: string }> {
  const e = config.eval;
  let robustness: RobustnessResult | undefined;
  if (choice.attacks.length > 0) {
    run.renderer.startPhase(`evaluation (${choice.attacks.join(', ')})`);
    robustness = evaluateRobustness(model, test, {
      attacks: choice.attacks,
      settings: robustnessSettings(config),
      onEvent: run.renderer.listener,
    });
  }
  let corruptions: CorruptionResult | undefined;
  const notes: string[] = [];
  if (choice.cifar10c) {
    if (choice.cifar10cDir) {
      // every file checked before the first is evaluated; missing corruptions (frost) are skipped and reported
      const folder = choice.cifar10cFolder ?? (await checkCifar10CFolder(choice.cifar10cDir));
      run.renderer.startPhase(`CIFAR-10-C (official arrays in ${choice.cifar10cDir})`);
      corruptions = await evaluateCorruptions(
        model,
        officialCorruptions(choice.cifar10cDir, { corruptions: folder.present }),
        {
          source: 'official',
          skipped: folder.missing,
          expectedBlocks: 5 * folder.present.length,
          onEvent: run.renderer.listener,
        },
      );
    } else {
      const images = takeImages(test, e.cifar10cImages);
      const what = `${images.count} test images, 19 corruptions × 5 severities`;
      run.renderer.startPhase(`CIFAR-10-C (generated from ${what})`);
      const generated = generatedCorruptions(images, { seed: config.seed, frostTextures: choice.frostTextures });
      corruptions = await evaluateCorruptions(model, generated.blocks, {
        skipped: generated.skipped,
        expectedBlocks: choice.frostTextures ? 95 : 90,
        onEvent: run.renderer.listener,
      });
      if (images.count < test.count)
        notes.push(`CIFAR-10-C was generated from the first ${images.count} of ${test.count} test images.`);
    }
  }
  run.renderer.finishLine();
  const report = createRunReport({
    ...describe,
    backend: config.backend,
    protocol: config.protocol,
    robustness,
    corruptions,
    notes,
  });
  const written = await writeReport(dir, [report], {
    title: `moco-robust — ${describe.name}`,
    examples: reportExamples(model, test, config),
  }).catch((error) => {
    throw FileSystemError.from(error, dir, 'write the report') ?? error; // a full disk names the folder
  });
  return { report, html: written.html, markdown: written.markdown };
}

/**
 * Where `--from` points, as a model directory or `model.json` path: a `model.json`, a folder with one,
 * a pre-training run (its `encoder/`), a fine-tuning run (its `model/`), a run's latest checkpoint or
 * a checkpoint directory (verified: a corrupt one is refused). `role` picks the encoder or the classifier.
 */
export async function resolveModelSource(from: string, role: 'encoder' | 'classifier'): Promise<string> {
  if (!existsSync(from))
    throw new CheckpointError({
      path: from,
      message: 'does not exist (expected a run directory, a checkpoint directory or a model.json)',
    });
  if (statSync(from).isFile()) return from;
  const isCheckpoint = existsSync(join(from, 'manifest.json'));
  if (!isCheckpoint && ['state.json', 'optimizer.json', 'loop.json'].some((f) => existsSync(join(from, f))))
    throw new CheckpointError({
      path: from,
      message: 'is a checkpoint folder without manifest.json: refused unverified',
    });
  if (!isCheckpoint) {
    for (const sub of role === 'encoder' ? ['encoder'] : ['model'])
      if (existsSync(join(from, sub, 'model.json'))) return join(from, sub);
    if (existsSync(join(from, 'model.json'))) return from;
  }
  const checkpoint = isCheckpoint ? from : await latestCheckpoint(from);
  if (checkpoint) {
    await openCheckpoint(checkpoint); // verifies every file against the manifest
    for (const sub of role === 'encoder' ? ['encoder'] : ['best', 'classifier'])
      if (existsSync(join(checkpoint, sub, 'model.json'))) return join(checkpoint, sub);
  }
  throw new CheckpointError({
    path: from,
    message:
      `holds no ${role} (expected ${role === 'encoder' ? 'encoder/model.json' : 'model/model.json'}, ` +
      `model.json or checkpoints/latest)`,
  });
}

/** Loads the model `--from` points at. */
export async function loadModelFrom(from: string, role: 'encoder' | 'classifier'): Promise<tfl.LayersModel> {
  const source = await resolveModelSource(from, role);
  try {
    return await loadModel(source);
  } catch (error) {
    throw new CheckpointError({
      path: source,
      message: `cannot load the ${role} (${(error as Error).message.split('\n')[0]})`,
      cause: error,
    });
  }
}

/** The report's 8 example images (clean, FGSM, PGD, corrupted) under the run's evaluation settings. */
export function reportExamples(model: tfl.LayersModel, test: Cifar10Images, config: RunConfig) {
  const e = config.eval;
  return collectExamples(model, test, {
    count: 8,
    settings: {
      pgdSteps: e.pgdSteps,
      pgdStepSize: e.pgdStepSize,
      pgdEpsilon: e.pgdEpsilon,
      fgsmEpsilon: e.fgsmEpsilon,
    },
    seed: config.seed,
  });
}
