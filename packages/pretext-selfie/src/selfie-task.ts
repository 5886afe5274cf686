import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  assertImages,
  InvalidArgumentError,
  type JsonValue,
  type PretextContext,
  type PretextEncoder,
  type PretextHeads,
  type PretextTargets,
  type PretextTaskV1,
  type Rng,
} from '@moco-robust/core';
import { attentionPool, createAttentionPooling, slotEmbeddings, type AttentionPoolingShape } from './attention-pooling';
import { encodePatches, patchEncoder, type PatchEncoder } from './patch-encoder';
import { checkMaskedCount, drawSelfieMask, imagePatches, patchSlots, selectSlots } from './patches';

/** Options of {@link selfieTask}; defaults follow Chen et al.'s CIFAR Selfie. */
export interface SelfieTaskOptions {
  /** Side of the square patches, pixels; default 8 (a 4×4 grid of 16 slots on 32×32 images). */
  patchSize?: number;
  /** Masked slots per batch, which are also the candidates of each slot; default 4 (12 visible). */
  maskedPatches?: number;
  /**
   * Encoder stages forming the patch network (stem + stages 1…k); default 3 (Chen et al.: ResNet-50's first three).
   */
  patchStages?: number;
  /** Transformer layers of the attention pooling; default 13 (Chen et al.). */
  layers?: number;
  /** Attention heads; default patch feature width / 64 (at least 1, as Chen et al.'s d_k = 64). */
  heads?: number;
  /** Feed-forward width of each transformer layer; default 2048 (Chen et al.). */
  feedForwardDim?: number;
  /**
   * Augmentation of the clean images before patching, seeded (Chen et al. pad by 2 and random-crop;
   * e.g. `randomCropFlip` of `@moco-robust/data`). Must return a new tensor of the same shape. Default: none.
   */
  augment?: (images: tf.Tensor4D, rng: Rng) => tf.Tensor4D;
}

/** A Selfie {@link PretextTaskV1} that also exposes its candidate scores. */
export interface SelfieTask extends PretextTaskV1 {
  /** Scores [N, k, k] of candidate j for masked slot i (the true patch of slot i is candidate i); differentiable. */
  logits(context: PretextContext, inputs: tf.Tensor4D, targets: PretextTargets): tf.Tensor3D;
}

/** Name of the attention-pooling head in `heads` (saved under `heads/attention-pooling/`). */
export const SELFIE_HEAD = 'attention-pooling';

/**
 * Selfie (Trinh et al. 2019) as an adversarial pretext task, as pre-trained by Chen et al. (CVPR
 * 2020): each image is cut into a 4×4 grid of 8×8 patches; per batch 4 seeded slots are masked and
 * 12 visible. The patch network — the encoder's stem and first stages, sharing its weights — encodes
 * every patch; an attention-pooling transformer summarises the visible patches (plus their slot
 * embeddings) into u; for each masked slot i, u + its slot embedding scores the 4 masked patches of
 * the same image by dot product (scaled by 1/√d, as attention scores), and a 4-way cross-entropy
 * picks the true one. The per-example loss
 * is the mean over the masked slots. The engine attacks the images with PGD on this loss and trains
 * on the mean of the clean and adversarial losses (`combine: 'mean'`).
 */
export function selfieTask(options: SelfieTaskOptions = {}): SelfieTask {
  const patchSize = options.patchSize ?? 8;
  const maskedPatches = options.maskedPatches ?? 4;
  const patchStages = options.patchStages ?? 3;
  const layers = options.layers ?? 13;
  const feedForwardDim = options.feedForwardDim ?? 2048;
  const { augment } = options;
  if (augment !== undefined && typeof augment !== 'function') {
    throw new InvalidArgumentError({
      argument: 'augment',
      expected: 'a function (images, rng) => images',
      received: augment,
    });
  }
  let live: { patches: PatchEncoder; source: unknown; shape: AttentionPoolingShape } | undefined;

  const requireLive = (context: PretextContext) => {
    if (!live)
      throw new InvalidArgumentError({
        argument: 'task',
        expected: 'createHeads() to be called before the task is used',
        received: 'an uninitialised Selfie task',
      });
    // the patch network is a view of the encoder it was built from
    if (live.source !== context.encoder.model)
      live = { ...live, patches: patchEncoder(context.encoder.model, patchStages), source: context.encoder.model };
    return live;
  };

  const logits = (context: PretextContext, inputs: tf.Tensor4D, targets: PretextTargets): tf.Tensor3D => {
    const { patches, shape } = requireLive(context);
    const head = context.heads[SELFIE_HEAD] as unknown as tfl.LayersModel;
    const [n, height, width] = inputs.shape;
    const slots = patchSlots(height, width, patchSize);
    if (slots !== shape.slots)
      throw new InvalidArgumentError({
        argument: 'inputs',
        expected: `images with ${shape.slots} patch slots of ${patchSize}×${patchSize}`,
        received: inputs.shape,
      });
    return tf.tidy(() => {
      const features = tf.reshape(encodePatches(patches, imagePatches(inputs, patchSize), context.training), [
        n,
        slots,
        shape.dim,
      ]) as tf.Tensor3D; // [N, S, d]
      const visible = targets.visible as tf.Tensor1D;
      const masked = targets.masked as tf.Tensor1D;
      // [N, V, d]
      const tokens = tf.add(selectSlots(features, visible), slotEmbeddings(head, visible, slots)) as tf.Tensor3D;
      const summary = attentionPool(head, tokens, shape); // [N, d]
      const queries = tf.add(tf.expandDims(summary, 1), slotEmbeddings(head, masked, slots)); // [N, k, d]
      const candidates = selectSlots(features, masked); // [N, k, d]
      // [N, k (slot), k (candidate)]
      return tf.div(tf.matMul(queries, candidates, false, true), Math.sqrt(shape.dim)) as tf.Tensor3D;
    });
  };

  return {
    specificationVersion: 'v1',
    name: 'selfie',
    combine: 'mean',

    createHeads(encoder: PretextEncoder, rng: Rng): PretextHeads {
      const patches = patchEncoder(encoder.model, patchStages);
      const dim = patches.featureDim;
      const heads = options.heads ?? Math.max(1, Math.floor(dim / 64));
      const [height, width] = (encoder.model as unknown as tfl.LayersModel).inputs[0].shape.slice(1, 3) as number[];
      const shape: AttentionPoolingShape = {
        dim,
        slots: patchSlots(height ?? 32, width ?? 32, patchSize),
        layers,
        heads,
        feedForwardDim,
      };
      checkMaskedCount(shape.slots, maskedPatches);
      live = { patches, source: encoder.model, shape };
      return { [SELFIE_HEAD]: createAttentionPooling(shape, rng.fork('attention-pooling')) };
    },

    makeBatch(images, rng) {
      assertImages(images, 'images');
      const mask = drawSelfieMask(
        patchSlots(images.shape[1], images.shape[2], patchSize),
        maskedPatches,
        rng.fork('mask'),
      );
      return tf.tidy(() => ({
        inputs: augment ? augment(images, rng.fork('augment')) : tf.clone(images),
        targets: { masked: tf.tensor1d(mask.masked, 'int32'), visible: tf.tensor1d(mask.visible, 'int32') },
      }));
    },

    logits,

    loss(context, inputs, targets) {
      return tf.tidy(() => candidateLoss(logits(context, inputs, targets)));
    },

    state: (): JsonValue => ({
      task: 'selfie',
      patchSize,
      maskedPatches,
      patchStages,
      layers,
      heads: live?.shape.heads ?? options.heads ?? null,
      feedForwardDim,
    }),
    loadState(state) {
      const saved = state as { task?: unknown; patchSize?: unknown; maskedPatches?: unknown } | null;
      if (saved === null || saved === undefined) return;
      if (saved.task !== undefined && saved.task !== 'selfie')
        throw new InvalidArgumentError({
          argument: 'state',
          expected: "the state of a Selfie task ({task: 'selfie'})",
          received: saved.task,
        });
      if (saved.patchSize !== undefined && (saved.patchSize !== patchSize || saved.maskedPatches !== maskedPatches)) {
        throw new InvalidArgumentError({
          argument: 'state',
          expected: `a Selfie run with ${patchSize}×${patchSize} patches and ${maskedPatches} masked`,
          received: `${saved.patchSize}×${saved.patchSize} patches, ${saved.maskedPatches} masked`,
        });
      }
    },
  };
}

/**
 * Selfie's per-example loss [N] from candidate scores [N, k, k]: the mean over slots i of the cross-entropy with the
 * true candidate i.
 */
export function candidateLoss(logits: tf.Tensor3D): tf.Tensor1D {
  const k = logits.shape[1];
  return tf.tidy(() => tf.neg(tf.div(tf.sum(tf.mul(tf.logSoftmax(logits), tf.eye(k)), [1, 2]), k)) as tf.Tensor1D);
}

/** Fraction of masked slots whose best-scoring candidate is the true one (chance 1/k), as a scalar tensor. */
export function candidateAccuracy(logits: tf.Tensor3D): tf.Scalar {
  const [n, k] = logits.shape;
  return tf.tidy(() => {
    const truth = tf.tile(tf.reshape(tf.range(0, k, 1, 'int32'), [1, k]), [n, 1]); // [N, k]
    return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 2), truth), 'float32')) as tf.Scalar;
  });
}
