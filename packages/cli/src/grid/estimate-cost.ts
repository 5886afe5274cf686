import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeImages, type Cifar10Images } from '@moco-robust/data';
import { pretrainingLabels } from '@moco-robust/eval';
import { classifierHead, composeModels } from '@moco-robust/models';
import type { RunConfig } from '../presets';
import { ProgressRenderer } from '../progress';
import { runEval, runFinetune, runPretrain } from '../run/pipeline';
import type { RunDir } from '../run/run-dir';
import type { GridCell } from './grid-spec';
import { cellRunDir } from './cell-run-dir';
import { initialEncoder } from './initial-encoder';

/** The estimated cost of one cell, in seconds, from measured steps. */
export interface CellEstimate {
  cell: string;
  pretrainSeconds: number;
  finetuneSeconds: number;
  /** Clean, FGSM and PGD evaluation. */
  evalSeconds: number;
  /** AutoAttack (when the cell runs it): an upper bound, as if no point were broken before its last attack. */
  autoAttackSeconds: number;
  /** CIFAR-10-C generation and evaluation, measured on a few images and scaled to the cell's count. */
  cifar10cSeconds: number;
  totalSeconds: number;
}

/** AutoAttack's default APGD iterations, APGD-T target classes and Square queries (attacks/auto-attack.ts). */
const AUTOATTACK = { steps: 100, targets: 9, queries: 5000 };

/** Seconds of one run of `work` on `steps` batches. */
async function timeSteps(
  work: (images: Cifar10Images, dir: string) => Promise<void>,
  data: Cifar10Images,
  batch: number,
  steps: number,
) {
  const dir = await mkdtemp(join(tmpdir(), 'mr-grid-estimate-'));
  try {
    const start = performance.now();
    await work(takeImages(data, batch * steps), dir);
    return (performance.now() - start) / 1000;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One step's seconds: a 2-step run minus a 1-step run (model building and start-up cancel out). */
async function secondsPerStep(
  work: (images: Cifar10Images, dir: string) => Promise<void>,
  data: Cifar10Images,
  batch: number,
) {
  const one = await timeSteps(work, data, batch, 1);
  const two = await timeSteps(work, data, batch, 2);
  return two > one ? two - one : two / 2;
}

/**
 * Estimates each cell's cost by measuring one pre-training step per distinct method × attack × architecture and one
 * fine-tuning step per architecture (on the grid's own data and settings), times the cell's step counts; evaluation
 * is scaled from the fine-tuning step by attack steps, AutoAttack likewise by its iterations; CIFAR-10-C is measured
 * once per architecture on 2 and 6 images (their difference, so start-up cancels) and scaled to the cell's count.
 */
export async function estimateGridCost(
  cells: readonly GridCell[],
  data: { train: Cifar10Images; test: Cifar10Images },
): Promise<CellEstimate[]> {
  const renderer = new ProgressRenderer({ quiet: true });
  const run = (): RunDir =>
    cellRunDir({ out: tmpdir(), renderer, signal: new AbortController().signal, resumed: false });
  const short = (config: RunConfig): RunConfig => ({
    ...config,
    pretrain: { ...config.pretrain, epochs: 1, checkpointEverySteps: 0 },
    finetune: { ...config.finetune, epochs: 1, validationImages: 0 },
  });
  const pretrainStep = new Map<string, number>();
  const finetuneStep = new Map<string, number>();
  const corruptionImage = new Map<string, number>();
  const estimates: CellEstimate[] = [];
  for (const cell of cells) {
    const c = cell.config;
    const knnTest = takeImages(data.test, Math.min(data.test.count, c.pretrain.batchSize));
    const pKey = `${c.pretrain.method}/${c.pretrain.attack}/${c.model.architecture}`;
    if (c.pretrain.method !== 'none' && !pretrainStep.has(pKey))
      pretrainStep.set(
        pKey,
        await secondsPerStep(
          async (images, dir) => {
            const { encoder } = await runPretrain(run(), dir, short(c), images, knnTest);
            encoder.dispose();
          },
          data.train,
          c.pretrain.batchSize,
        ),
      );
    const fKey = `${c.model.architecture}/${JSON.stringify(c.finetune)}`;
    if (!finetuneStep.has(fKey))
      finetuneStep.set(
        fKey,
        await secondsPerStep(
          async (images, dir) => {
            const result = await runFinetune(run(), dir, short(c), initialEncoder(c), images);
            result.classifier.model.dispose();
          },
          data.train,
          c.finetune.batchSize,
        ),
      );
    const cKey = c.model.architecture;
    if (c.eval.cifar10c && !corruptionImage.has(cKey)) {
      const seconds = async (images: number) => {
        const dir = await mkdtemp(join(tmpdir(), 'mr-grid-estimate-'));
        // an untrained classifier of the architecture: corrupting and classifying cost the same whatever the weights
        const encoder = initialEncoder(c);
        const head = classifierHead({ inputDim: encoder.outputs[0]!.shape[1] as number, rng: c.seed });
        const model = composeModels(encoder, head);
        try {
          const start = performance.now();
          const config = { ...c, eval: { ...c.eval, cifar10cImages: images } };
          const describe = { ...pretrainingLabels(c.pretrain), name: 'estimate', model: c.model.architecture };
          const test = takeImages(data.test, images);
          await runEval(run(), dir, config, model, test, { attacks: [], cifar10c: true }, describe);
          return (performance.now() - start) / 1000;
        } finally {
          encoder.dispose();
          head.dispose();
          await rm(dir, { recursive: true, force: true });
        }
      };
      const two = await seconds(2);
      const six = await seconds(6);
      corruptionImage.set(cKey, six > two ? (six - two) / 4 : six / 6);
    }
    const trainImages = Math.min(c.data.trainImages, data.train.count);
    const pretrainSeconds =
      c.pretrain.method === 'none'
        ? 0
        : pretrainStep.get(pKey)! * c.pretrain.epochs * Math.floor(trainImages / c.pretrain.batchSize);
    const finetuneSteps =
      c.finetune.epochs * Math.ceil((trainImages - c.finetune.validationImages) / c.finetune.batchSize);
    const finetuneSeconds = finetuneStep.get(fKey)! * finetuneSteps;
    // clean + FGSM + PGD-k evaluation ≈ (k + 3) forward-backward passes per image, against (steps + 2) per
    // training image
    const perImage = finetuneStep.get(fKey)! / c.finetune.batchSize / (c.finetune.steps + 2);
    const testImages = Math.min(c.data.testImages, data.test.count);
    const evalSeconds = perImage * testImages * (c.eval.pgdSteps + 3);
    // APGD-CE + APGD-T over 9 targets (+ Square's queries, forward only ≈ ⅓ of a forward-backward pass)
    const apgd = (c.eval.autoAttackSteps ?? AUTOATTACK.steps) * (1 + AUTOATTACK.targets);
    const autoAttackPasses = c.eval.autoAttack === 'standard' ? apgd + AUTOATTACK.queries / 3 : apgd;
    const autoAttackSeconds = c.eval.autoAttack ? perImage * testImages * autoAttackPasses : 0;
    const cifar10cSeconds = c.eval.cifar10c
      ? corruptionImage.get(cKey)! * Math.min(c.eval.cifar10cImages, data.test.count)
      : 0;
    estimates.push({
      cell: cell.name,
      pretrainSeconds,
      finetuneSeconds,
      evalSeconds,
      autoAttackSeconds,
      cifar10cSeconds,
      totalSeconds: pretrainSeconds + finetuneSeconds + evalSeconds + autoAttackSeconds + cifar10cSeconds,
    });
  }
  return estimates;
}
