import type * as tfl from '@tensorflow/tfjs-layers';
import {
  AbortedError,
  memoryCheckpointStore,
  MocoRobustError,
  type ModelLike,
  type PretextEncoder,
  type PretextHeads,
  type PretextTaskV1,
} from '@moco-robust/core';
import type { ImageSet } from '@moco-robust/data';
import { createResnetEncoder } from '@moco-robust/models';
import { pretrain, type PretrainOptions } from '@moco-robust/moco';
import { ConformanceError } from './conformance-error';

/** Which of the three runs of {@link checkResumeIsExact} a task or encoder is made for. */
export type ResumeRun = 'uninterrupted' | 'aborted' | 'resumed';

/** Options of {@link checkResumeIsExact}. */
export interface CheckResumeIsExactOptions<Task extends PretextTaskV1> {
  /** A fresh task for each run (give the resumed one other options to check that the checkpoint wins). */
  createTask(run: ResumeRun): Task;
  /** A fresh encoder for each run, the same weights each time; default a ResNet-6 of width 8 seeded 1. */
  createEncoder?(run: ResumeRun): PretextEncoder & { model: tfl.LayersModel };
  /** Training images (a few batches: 64 by default settings). */
  data: ImageSet;
  /**
   * Pre-training settings over the check's: seed 5, 2 epochs, batch 16, PGD-1. A checkpoint is written every step and
   * every step is logged.
   */
  config?: PretrainOptions['config'];
  /** Step at which the second run is aborted; default 3. */
  abortAt?: number;
}

/** What {@link checkResumeIsExact} found. */
export interface ResumeReport<Task extends PretextTaskV1> {
  totalSteps: number;
  abortedAt: number;
  /** Weight tensors compared (encoder and heads), all equal to the last bit. */
  comparedTensors: number;
  /** The three runs' tasks, still alive (e.g. to compare plugin-specific state). */
  tasks: Record<ResumeRun, Task>;
}

const CHECK = 'checkResumeIsExact';

/**
 * Checks exact resume through the pre-training engine: an uninterrupted run; a run aborted at step
 * `abortAt` (it must stop with `AbortedError` "stopped at step k of n") with a checkpoint every step;
 * a third run resumed from its last checkpoint must end after all n steps with the uninterrupted
 * run's encoder and head weights bit for bit, and the same task `state()`. Disposes the encoders
 * and heads; throws a {@link ConformanceError}.
 */
export async function checkResumeIsExact<Task extends PretextTaskV1>(
  options: CheckResumeIsExactOptions<Task>,
): Promise<ResumeReport<Task>> {
  const abortAt = options.abortAt ?? 3;
  const config = {
    seed: 5,
    epochs: 2,
    batchSize: 16,
    attack: { kind: 'pgd' as const, steps: 1 },
    knn: { everyEpochs: 0 },
    ...options.config,
    logEvery: 1,
    checkpoint: { ...options.config?.checkpoint, everySteps: 1, everyEpochs: 0 },
  };
  const createEncoder = options.createEncoder ?? (() => createResnetEncoder({ architecture: 'resnet6-w8', rng: 1 }));
  const runs = (['uninterrupted', 'aborted', 'resumed'] as const).map((run) => ({
    run,
    task: options.createTask(run),
    encoder: createEncoder(run),
  }));
  const [uninterrupted, aborted, resumed] = runs;
  const heads: PretextHeads[] = [];
  try {
    const full = await pretrain({
      task: uninterrupted.task,
      encoder: uninterrupted.encoder,
      data: options.data,
      config,
    });
    heads.push(full.heads);
    const store = memoryCheckpointStore();
    const controller = new AbortController();
    let error: unknown;
    try {
      const ran = await pretrain({
        task: aborted.task,
        encoder: aborted.encoder,
        data: options.data,
        config,
        store,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'step-end' && e.step === abortAt) controller.abort();
        },
      });
      heads.push(ran.heads);
    } catch (caught) {
      error = caught;
    }
    const stopped = new RegExp(`stopped at step ${abortAt} of ${full.steps}\\b`);
    if (!(MocoRobustError.isInstance(error) && error.code === new AbortedError().code && stopped.test(error.message))) {
      throw new ConformanceError({
        check: `${CHECK}: aborted run`,
        expected: `an AbortedError "Pre-training stopped at step ${abortAt} of ${full.steps}"`,
        received: error === undefined ? 'a run that finished' : `${(error as Error).name}: ${(error as Error).message}`,
        cause: error,
      });
    }
    const again = await pretrain({
      task: resumed.task,
      encoder: resumed.encoder,
      data: options.data,
      config,
      store,
      resume: true,
    });
    heads.push(again.heads);
    if (again.steps !== full.steps)
      throw new ConformanceError({
        check: `${CHECK}: resumed run`,
        expected: `to end at step ${full.steps}`,
        received: `step ${again.steps}`,
      });
    let comparedTensors = compareWeights('encoder', uninterrupted.encoder.model, resumed.encoder.model);
    for (const name of Object.keys(full.heads)) {
      if (!again.heads[name])
        throw new ConformanceError({
          check: `${CHECK}: resumed heads`,
          expected: `a head '${name}'`,
          received: Object.keys(again.heads).join(', ') || 'none',
        });
      comparedTensors += compareWeights(`heads.${name}`, full.heads[name], again.heads[name]);
    }
    const [a, b] = [uninterrupted.task.state(), resumed.task.state()].map((s) => JSON.stringify(s));
    if (a !== b)
      throw new ConformanceError({
        check: `${CHECK}: task state`,
        expected: `the uninterrupted run's state() ${a.slice(0, 200)}`,
        received: b.slice(0, 200),
        hint: 'loadState must restore everything state() saves.',
      });
    return {
      totalSteps: full.steps,
      abortedAt: abortAt,
      comparedTensors,
      tasks: { uninterrupted: uninterrupted.task, aborted: aborted.task, resumed: resumed.task },
    };
  } finally {
    for (const r of runs) r.encoder.model.dispose();
    for (const h of heads) for (const m of Object.values(h)) (m as Partial<{ dispose(): void }>).dispose?.();
  }
}

/** Compares two models' weights element by element; returns how many tensors it compared. */
function compareWeights(owner: string, expected: ModelLike, actual: ModelLike): number {
  const [wa, wb] = [expected.getWeights(), actual.getWeights()];
  if (wa.length !== wb.length)
    throw new ConformanceError({
      check: `${CHECK}: ${owner}`,
      expected: `${wa.length} weight tensors`,
      received: `${wb.length}`,
    });
  for (let i = 0; i < wa.length; i++) {
    const [x, y] = [wa[i].dataSync(), wb[i].dataSync()];
    const at = x.length !== y.length ? 0 : x.findIndex((v, j) => !Object.is(v, y[j]));
    if (at >= 0) {
      throw new ConformanceError({
        check: `${CHECK}: ${owner} weights`,
        expected: `the uninterrupted run's weight ${i} exactly (element ${at}: ${x[at]})`,
        received: `${y[at]} after resuming`,
        hint: 'Save all training state (optimizer slots, RNG, task state and tensors) with the checkpoint.',
      });
    }
  }
  return wa.length;
}
