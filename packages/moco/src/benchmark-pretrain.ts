import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@moco-robust/core';
import { MOCO_V2_AUGMENTATION, twoViews } from '@moco-robust/data';
import { createResnetEncoder, projectionHead, type ResnetPreset } from '@moco-robust/models';
import { mocoTask } from './moco-task';
import { pretrain, type PretrainEvent } from './pretrain';

/** Options of {@link benchmarkPretrain}. */
export interface PretrainBenchmarkOptions {
  /** Default `resnet18`. */
  architecture?: ResnetPreset;
  /** Images per step; default 32. */
  batch?: number;
  /** `none` (plain MoCo-v2), `fgsm` (MoCo-FGSM) or `pgd` (MoCo-PGD); default `pgd`. */
  attack?: 'none' | 'fgsm' | 'pgd';
  /** MoCo-PGD steps; default 10. */
  attackSteps?: number;
  /** Timed steps after one warm-up step; default 3. */
  steps?: number;
  /** Split batch-norm groups; default 8 (MoCo's CIFAR demo), or 1 for batches not divisible by 8. */
  batchNormGroups?: number;
}

/** Pre-training throughput on the current backend. */
export interface PretrainBenchmarkResult {
  backend: string;
  architecture: string;
  batch: number;
  attack: string;
  /** Whole pre-training steps per second × batch: augmentation, attack, forward/backward, SGD, EMA, enqueue. */
  imagesPerSecond: number;
  /** Tensors alive after the run minus before (0: nothing leaked). */
  leakedTensors: number;
}

/**
 * Times whole MoCo-v2 pre-training steps of the engine (two-view augmentation, the label-free attack,
 * forward/backward, SGD, the momentum encoder's EMA and the queue) on random images, after one warm-up
 * step, on the current backend.
 */
export async function benchmarkPretrain(options: PretrainBenchmarkOptions = {}): Promise<PretrainBenchmarkResult> {
  const architecture = options.architecture ?? 'resnet18';
  const batch = options.batch ?? 32;
  const steps = options.steps ?? 3;
  const attack = options.attack ?? 'pgd';
  const attackSteps = options.attackSteps ?? 10;
  const groups = options.batchNormGroups ?? (batch % 8 === 0 ? 8 : 1);
  const before = tf.memory().numTensors;
  const rng = Rng.fromSeed(1);
  const count = batch * (steps + 1);
  const images = new Uint8Array(count * 3072);
  for (let i = 0; i < images.length; i++) images[i] = rng.nextUint32() & 255;
  const encoder = createResnetEncoder({ architecture, rng: 2, batchNormGroups: groups });
  const task = mocoTask({
    version: 'v2',
    augment: (x, r) => twoViews(x, MOCO_V2_AUGMENTATION, r),
    projectionHead: (o) => projectionHead(o),
    queueSize: batch * 4,
  });
  const stepTimes: number[] = [];
  let last = 0;
  const { heads } = await pretrain({
    task,
    encoder,
    data: { images, count },
    config: {
      seed: 3,
      epochs: 1,
      batchSize: batch,
      attack: { kind: attack, steps: attackSteps },
      checkpoint: { everyEpochs: 0 },
      knn: { everyEpochs: 0 },
      logEvery: 1,
    },
    onEvent: (event: PretrainEvent) => {
      if (event.type === 'pretrain-start') last = performance.now();
      if (event.type === 'step-end') {
        const now = performance.now();
        stepTimes.push(now - last);
        last = now;
      }
    },
  });
  task.dispose?.();
  for (const head of Object.values(heads)) (head as unknown as { dispose(): void }).dispose();
  encoder.model.dispose();
  const timed = stepTimes.slice(1); // the first step compiles kernels and allocates
  const seconds = timed.reduce((a, b) => a + b, 0) / 1000;
  return {
    backend: tf.getBackend(),
    architecture,
    batch,
    attack: attack === 'none' ? 'plain MoCo-v2' : attack === 'fgsm' ? 'MoCo-FGSM' : `MoCo-PGD-${attackSteps}`,
    imagesPerSecond: (timed.length * batch) / seconds,
    leakedTensors: tf.memory().numTensors - before,
  };
}
