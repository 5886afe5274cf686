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
import { pretrainingRecord } from '../run/lineage';

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
  /**
   * The same total in CPU-seconds of this process (user + system), which the machine's other load distorts far less
   * than wall time: on a quiet machine the wall time lies between `cpuSeconds / cores` and `cpuSeconds`.
   */
  cpuSeconds: number;
}

/** A measured duration: wall-clock seconds and this process's CPU-seconds. */
interface Cost {
  wall: number;
  cpu: number;
}

function startClock(): () => Cost {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { wall: (performance.now() - wall) / 1000, cpu: (used.user + used.system) / 1e6 };
  };
}

/** `b − a` per clock, or `b / 2` where the difference is not positive (noise larger than a step). */
const slope = (a: Cost, b: Cost, per: number): Cost => ({
  wall: b.wall > a.wall ? (b.wall - a.wall) / per : b.wall / (per + 1),
  cpu: b.cpu > a.cpu ? (b.cpu - a.cpu) / per : b.cpu / (per + 1),
});

/** AutoAttack's default APGD iterations, APGD-T target classes and Square queries (attacks/auto-attack.ts). */
const AUTOATTACK = { steps: 100, targets: 9, queries: 5000 };

/** The cost of one run of `work` on `steps` batches. */
async function timeSteps(
  work: (images: Cifar10Images, dir: string) => Promise<void>,
  data: Cifar10Images,
  batch: number,
  steps: number,
): Promise<Cost> {
  const dir = await mkdtemp(join(tmpdir(), 'mr-grid-estimate-'));
  try {
    const stop = startClock();
    await work(takeImages(data, batch * steps), dir);
    return stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One step's cost: a 2-step run minus a 1-step run (model building and start-up cancel out). */
async function secondsPerStep(
  work: (images: Cifar10Images, dir: string) => Promise<void>,
  data: Cifar10Images,
  batch: number,
): Promise<Cost> {
  const one = await timeSteps(work, data, batch, 1);
  const two = await timeSteps(work, data, batch, 2);
  return slope(one, two, 1);
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
    pretrain: { ...config.pretrain, epochs: 1, checkpoint: { ...config.pretrain.checkpoint, everySteps: 0 } },
    finetune: { ...config.finetune, epochs: 1, validationSize: 0 },
  });
  const pretrainStep = new Map<string, Cost>();
  const finetuneStep = new Map<string, Cost>();
  const corruptionImage = new Map<string, Cost>();
  const estimates: CellEstimate[] = [];
  for (const cell of cells) {
    const c = cell.config;
    const knnTest = takeImages(data.test, Math.min(data.test.count, c.pretrain.batchSize));
    const pKey = `${c.pretrain.method}/${c.pretrain.attack.kind}/${c.model.architecture}`;
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
          const stop = startClock();
          const config = { ...c, eval: { ...c.eval, cifar10cImages: images } };
          const labels = pretrainingLabels(pretrainingRecord(c.pretrain));
          const describe = { ...labels, name: 'estimate', model: c.model.architecture };
          const test = takeImages(data.test, images);
          await runEval(run(), dir, config, model, test, { attacks: [], cifar10c: true }, describe);
          return stop();
        } finally {
          encoder.dispose();
          head.dispose();
          await rm(dir, { recursive: true, force: true });
        }
      };
      const two = await seconds(2);
      const six = await seconds(6);
      corruptionImage.set(cKey, slope(two, six, 4));
    }
    const parts = (clock: keyof Cost) =>
      cellCost(c, data, clock, {
        pretrain: pretrainStep.get(pKey),
        finetune: finetuneStep.get(fKey)!,
        corruption: corruptionImage.get(cKey),
      });
    const wall = parts('wall');
    estimates.push({ cell: cell.name, ...wall, cpuSeconds: parts('cpu').totalSeconds });
  }
  return estimates;
}

/** A cell's cost on one clock from the measured unit costs: steps × per-step cost, images × per-image cost. */
function cellCost(
  c: RunConfig,
  data: { train: Cifar10Images; test: Cifar10Images },
  clock: keyof Cost,
  unit: { pretrain?: Cost; finetune: Cost; corruption?: Cost },
): Omit<CellEstimate, 'cell' | 'cpuSeconds'> {
  const trainImages = Math.min(c.data.trainImages, data.train.count);
  const pretrainSeconds =
    c.pretrain.method === 'none'
      ? 0
      : unit.pretrain![clock] * c.pretrain.epochs * Math.floor(trainImages / c.pretrain.batchSize);
  const finetuneSteps = c.finetune.epochs * Math.ceil((trainImages - c.finetune.validationSize) / c.finetune.batchSize);
  const finetuneSeconds = unit.finetune[clock] * finetuneSteps;
  // clean + FGSM + PGD-k evaluation ≈ (k + 3) forward-backward passes per image, against (steps + 2) per
  // training image
  const perImage = unit.finetune[clock] / c.finetune.batchSize / (c.finetune.attack.steps + 2);
  const testImages = Math.min(c.data.testImages, data.test.count);
  const evalSeconds = perImage * testImages * (c.eval.pgdSteps + 3);
  // APGD-CE + APGD-T over 9 targets (+ Square's queries, forward only ≈ ⅓ of a forward-backward pass)
  const apgd = (c.eval.autoAttackSteps ?? AUTOATTACK.steps) * (1 + AUTOATTACK.targets);
  const autoAttackPasses = c.eval.autoAttackVersion === 'standard' ? apgd + AUTOATTACK.queries / 3 : apgd;
  const autoAttackSeconds = c.eval.autoAttackVersion ? perImage * testImages * autoAttackPasses : 0;
  const cifar10cSeconds = c.eval.cifar10c
    ? unit.corruption![clock] * Math.min(c.eval.cifar10cImages, data.test.count)
    : 0;
  return {
    pretrainSeconds,
    finetuneSeconds,
    evalSeconds,
    autoAttackSeconds,
    cifar10cSeconds,
    totalSeconds: pretrainSeconds + finetuneSeconds + evalSeconds + autoAttackSeconds + cifar10cSeconds,
  };
}
