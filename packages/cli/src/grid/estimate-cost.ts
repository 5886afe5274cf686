import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeImages, type Cifar10Images } from '@moco-robust/data';
import type { RunConfig } from '../presets';
import { ProgressRenderer } from '../progress';
import { runFinetune, runPretrain } from '../run/pipeline';
import type { RunDir } from '../run/run-dir';
import type { GridCell } from './grid-spec';
import { cellRunDir } from './cell-run-dir';
import { initialEncoder } from './initial-encoder';

/** The estimated cost of one cell, in seconds, from measured steps. */
export interface CellEstimate {
  cell: string;
  pretrainSeconds: number;
  finetuneSeconds: number;
  evalSeconds: number;
  totalSeconds: number;
}

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
 * is scaled from the fine-tuning step by attack steps. CIFAR-10-C generation is not included.
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
    const evalSeconds = perImage * Math.min(c.data.testImages, data.test.count) * (c.eval.pgdSteps + 3);
    estimates.push({
      cell: cell.name,
      pretrainSeconds,
      finetuneSeconds,
      evalSeconds,
      totalSeconds: pretrainSeconds + finetuneSeconds + evalSeconds,
    });
  }
  return estimates;
}
