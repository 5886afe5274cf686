import * as tf from '@tensorflow/tfjs-core';
import {
  infoNce,
  InvalidArgumentError,
  l2Normalize,
  type JsonValue,
  type ModelLike,
  type PretextContext,
  type PretextEncoder,
  type PretextHeads,
  type PretextTaskV1,
  type Rng,
} from '@moco-robust/core';
import { mocoFgsm, mocoPgd } from '@moco-robust/attacks';
import type { TwoViews } from '@moco-robust/data';
import { emaUpdate } from './ema';
import { Queue } from './queue';
import { shuffledForward } from './shuffle-batch';

/** The two-view augmentation MoCo takes as `augment` (defined in @moco-robust/data). */
export type { TwoViews };

/** Builds a projection head on top of `inputDim`-wide features (the models package's heads). */
export type ProjectionHeadFactory = (options: {
  kind: 'linear' | 'mlp';
  inputDim: number;
  outputDim: number;
  rng: Rng;
}) => ModelLike;

/** Options of {@link mocoTask}; defaults follow MoCo's CIFAR-10 demo (docs/protocol.md, "Pre-training"). */
export interface MocoTaskOptions {
  /** `v1`: linear head, T 0.1; `v2`: MLP head (hidden = feature width), T 0.2. Default `v2`. */
  version?: 'v1' | 'v2';
  /** The two-view augmentation (e.g. `@moco-robust/data`'s MoCo-v1/v2 presets). */
  augment: TwoViews;
  /** Builds the projection head (e.g. `projectionHead` of `@moco-robust/models`). */
  projectionHead: ProjectionHeadFactory;
  /** Queue size K; default 4096. Must be a multiple of the batch (of 2× the batch when symmetric). */
  queueSize?: number;
  /** Key-encoder momentum m; default 0.99. */
  momentum?: number;
  /** InfoNCE temperature; default 0.1 (v1) / 0.2 (v2). */
  temperature?: number;
  /** Embedding width; default 128. */
  dim?: number;
  /** Symmetric loss (both views serve as queries); default false (asymmetric, as MoCo). */
  symmetric?: boolean;
  /** Batch-norm mode of the key encoder's forward; default true (training statistics, as MoCo). */
  keyBatchNormTraining?: boolean;
  /**
   * Shuffle-BN: the key batch goes through the key encoder in a seeded random order and its keys are put back in
   * order, so with split batch-norm a query and its key are normalised with different images; default true (MoCo and
   * its CIFAR demo; docs/protocol.md, "Shuffle-BN"). The permutation comes from the step's generator, so a resumed run
   * draws the same one.
   */
  shuffleBatchNorm?: boolean;
}

/**
 * The built-in MoCo pretext task (He et al., CVPR 2020; v2: Chen et al., 2020) as a
 * {@link PretextTaskV1}: queries are the (adversarial) first views through the encoder and its
 * projection head; keys are the clean second views through the momentum (EMA) key encoder,
 * computed once per step; negatives come from the queue, which receives the keys after the step.
 */
export function mocoTask(options: MocoTaskOptions): PretextTaskV1 {
  const version = options.version ?? 'v2';
  if (version !== 'v1' && version !== 'v2')
    throw new InvalidArgumentError({ argument: 'version', expected: "'v1' or 'v2'", received: version });
  if (typeof options.augment !== 'function')
    throw new InvalidArgumentError({
      argument: 'augment',
      expected: 'a two-view augmentation (images, rng) => [view1, view2]',
      received: options.augment,
    });
  const momentum = options.momentum ?? 0.99;
  const temperature = options.temperature ?? (version === 'v1' ? 0.1 : 0.2);
  const dim = options.dim ?? 128;
  const symmetric = options.symmetric ?? false;
  const keyTraining = options.keyBatchNormTraining ?? true;
  const shuffle = options.shuffleBatchNorm ?? true;
  let queue: Queue | undefined;
  let keyEncoder: ModelLike | undefined;
  let keyHead: ModelLike | undefined;

  const project = (encoder: ModelLike, head: ModelLike, x: tf.Tensor4D, training: boolean) =>
    head.apply(encoder.apply(x, { training }) as tf.Tensor, { training }) as tf.Tensor2D;

  return {
    specificationVersion: 'v1',
    name: version === 'v1' ? 'moco-v1' : 'moco-v2',
    combine: 'adversarial',

    createHeads(encoder: PretextEncoder, rng: Rng): PretextHeads {
      const kind = version === 'v1' ? 'linear' : 'mlp';
      const projection = options.projectionHead({
        kind,
        inputDim: encoder.featureDim,
        outputDim: dim,
        rng: rng.fork('projection'),
      });
      keyEncoder = encoder.clone();
      keyHead = options.projectionHead({
        kind,
        inputDim: encoder.featureDim,
        outputDim: dim,
        rng: rng.fork('projection'),
      });
      keyHead.setWeights(projection.getWeights());
      queue = new Queue({ size: options.queueSize ?? 4096, dim, rng: rng.fork('queue') });
      return { projection };
    },

    makeBatch(images, rng, context) {
      const live = requireState();
      live.queue.checkBatchSize(images.shape[0] * (symmetric ? 2 : 1), 'queueSize');
      // momentum update of the key encoder before the key forward, as MoCo does
      emaUpdate(weightsOf(live.keyEncoder), live.queryWeights(context), momentum);
      emaUpdate(weightsOf(live.keyHead), weightsOf(context.heads.projection), momentum);
      // forks do not advance `rng`: the augmentation draws the same views with or without the shuffle
      const shuffleRng = rng.fork('shuffle-bn');
      const keysOf = (view: tf.Tensor4D, label: string) => {
        const forward = (x: tf.Tensor4D) => project(live.keyEncoder, live.keyHead, x, keyTraining);
        return l2Normalize(shuffle ? shuffledForward(forward, view, shuffleRng.fork(label)) : forward(view));
      };
      return tf.tidy(() => {
        const [view1, view2] = options.augment(images, rng);
        const key2 = keysOf(view2, 'view2'); // [N, dim], row i the key of image i
        if (!symmetric) return { inputs: view1, targets: { keys: key2 } };
        const key1 = keysOf(view1, 'view1'); // [N, dim]
        return {
          inputs: tf.concat([view1, view2]) as tf.Tensor4D,
          targets: { keys: tf.concat([key2, key1]) as tf.Tensor2D },
        };
      });
    },

    loss(context: PretextContext, inputs, targets) {
      const live = requireState();
      return tf.tidy(() =>
        infoNce(
          project(context.encoder.model, context.heads.projection, inputs, context.training),
          targets.keys as tf.Tensor2D,
          live.queue.keys,
          temperature,
        ),
      );
    },

    /**
     * The paper's label-free attack through the exported {@link mocoPgd} / {@link mocoFgsm} (one implementation): the
     * query branch as it trains, the batch's clean keys and the queue as the objective; the same numbers as PGD on
     * `loss`. FGSM is the engine's one step of size ε without a random start.
     */
    craft(context, inputs, targets, attack) {
      const objective = {
        query: (x: tf.Tensor4D) => project(context.encoder.model, context.heads.projection, x, context.training),
        keys: targets.keys as tf.Tensor2D,
        queue: requireState().queue.keys,
        temperature,
      };
      if (!attack.randomStart && attack.steps === 1 && attack.stepSize === attack.epsilon)
        return mocoFgsm(objective, inputs, { epsilon: attack.epsilon });
      const { epsilon, stepSize, steps, randomStart, rng } = attack;
      return mocoPgd(objective, inputs, { epsilon, stepSize, steps, randomStart, rng });
    },

    afterStep(_context, batch) {
      requireState().queue.enqueue(batch.targets.keys as tf.Tensor2D);
    },

    models: () => ({ 'key-encoder': requireState().keyEncoder, 'key-heads/projection': requireState().keyHead }),
    tensors: () => ({ queue: requireState().queue.keys }),
    loadTensors(tensors) {
      const live = requireState();
      live.queue.loadState({ keys: tensors.queue.dataSync() as Float32Array, pointer: live.queue.pointer });
    },
    state: (): JsonValue => ({
      queuePointer: queue?.pointer ?? 0,
      version,
      momentum,
      temperature,
      dim,
      symmetric,
      shuffleBatchNorm: shuffle,
    }),
    loadState(state) {
      const live = requireState();
      const pointer = (state as { queuePointer?: number })?.queuePointer ?? 0;
      live.queue.loadState({ keys: live.queue.keys.dataSync() as Float32Array, pointer });
    },
    /**
     * Frees the queue and the momentum encoder and head (the task owns them; the heads it returned belong to the
     * caller).
     */
    dispose() {
      queue?.dispose();
      for (const model of [keyEncoder, keyHead]) (model as unknown as { dispose?(): void } | undefined)?.dispose?.();
      queue = keyEncoder = keyHead = undefined;
    },
  };

  function requireState() {
    if (!queue || !keyEncoder || !keyHead)
      throw new InvalidArgumentError({
        argument: 'task',
        expected: 'createHeads() to be called before the task is used',
        received: 'an uninitialised MoCo task',
      });
    return {
      queue,
      keyEncoder,
      keyHead,
      queryWeights: (context: PretextContext) => weightsOf(context.encoder.model),
    };
  }
}

/** The trainable weights of a model as tensors, in order (the EMA pairs them by position). */
function weightsOf(model: ModelLike): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}
