import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random/rng';

/** JSON-serializable value (a pretext task's checkpointed state). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * The structural view of a tfjs `LayersModel` that contracts need (a real `tf.LayersModel` satisfies
 * it; core does not depend on tfjs-layers).
 */
export interface ModelLike {
  readonly name: string;
  apply(inputs: tf.Tensor, kwargs?: { training?: boolean }): unknown;
  readonly trainableWeights: ReadonlyArray<{ readonly name: string; read(): tf.Tensor }>;
  getWeights(trainableOnly?: boolean): tf.Tensor[];
  setWeights(weights: tf.Tensor[]): void;
}

/** What the engine tells a task about the encoder it trains. */
export interface PretextEncoder {
  /** The query encoder: images [N, H, W, 3] in [0, 1] → features [N, featureDim]. */
  model: ModelLike;
  /** Width of the encoder's feature vector (512 for ResNet-18, 2048 for ResNet-50). */
  featureDim: number;
  /** A new encoder of the same architecture with the same weights (e.g. MoCo's momentum encoder). */
  clone(): ModelLike;
}

/** The heads a task trains on top of the encoder, by name; saved under `heads/<name>/` in checkpoints. */
export type PretextHeads = Record<string, ModelLike>;

/**
 * Tensors a task passes from `makeBatch` to `loss` (labels, keys, masks…). The engine disposes them after the step.
 */
export type PretextTargets = Record<string, tf.Tensor>;

/** The state a task's functions see during one step. */
export interface PretextContext {
  /** The query encoder and its metadata. */
  encoder: PretextEncoder;
  /** The heads created by {@link PretextTaskV1.createHeads}. */
  heads: PretextHeads;
  /** Batch-norm mode for forwards in this phase: true while training, and as configured while crafting. */
  training: boolean;
  /** The step's random stream. */
  rng: Rng;
  /** Global step (0-based). */
  step: number;
}

/** A batch prepared by a task: `inputs` are what the attack perturbs (NHWC in [0, 1]). */
export interface PretextBatch {
  inputs: tf.Tensor4D;
  targets: PretextTargets;
}

/** Attack settings the engine passes to `craft` (L∞, pixel units). */
export interface PretextAttackSettings {
  epsilon: number;
  stepSize: number;
  steps: number;
  randomStart: boolean;
  /** Batch-norm mode of the model while crafting. */
  training: boolean;
  rng: Rng;
}

/**
 * Version 1 of the self-supervised pretext-task contract. The pre-training engine in
 * `@moco-robust/moco` trains any implementation adversarially: each step it calls `makeBatch`,
 * crafts adversarial `inputs` (the task's `craft`, or the engine's PGD ascending `loss`), and
 * minimises the adversarial loss (`combine: 'adversarial'`, the MoCo paper) or the mean of the clean
 * and adversarial losses (`'mean'`, Chen et al. 2020). A plugin package's default export is a factory
 * `(options) => PretextTaskV1`.
 */
export interface PretextTaskV1 {
  readonly specificationVersion: 'v1';
  /** Method name, e.g. `rotation`; the CLI's `--method`. */
  readonly name: string;
  /** How the training loss uses the adversarial inputs. */
  readonly combine: 'adversarial' | 'mean';
  /** Creates the task's trainable heads (and any other per-run state), seeded. */
  createHeads(encoder: PretextEncoder, rng: Rng): PretextHeads;
  /**
   * Builds the pretext batch from clean images [N, H, W, 3] in [0, 1]: augmented views, pretext
   * inputs and targets. Runs outside gradient tape; may use `context` (e.g. MoCo's key encoder).
   */
  makeBatch(images: tf.Tensor4D, rng: Rng, context: PretextContext): PretextBatch;
  /**
   * Per-example pretext loss of `inputs` [N, …] against `targets`; returns [N]. Differentiable in `inputs` and the
   * weights.
   */
  loss(context: PretextContext, inputs: tf.Tensor4D, targets: PretextTargets): tf.Tensor1D;
  /** The task's own attack (e.g. RoCL's instance-wise attack); default: the engine's PGD on `loss`. */
  craft?(
    context: PretextContext,
    inputs: tf.Tensor4D,
    targets: PretextTargets,
    attack: PretextAttackSettings,
  ): tf.Tensor4D;
  /** The task's own training loss (scalar) from clean and adversarial inputs, replacing `combine`; e.g. RoCL's. */
  trainingLoss?(
    context: PretextContext,
    inputs: tf.Tensor4D,
    adversarial: tf.Tensor4D | undefined,
    targets: PretextTargets,
  ): tf.Scalar;
  /** Called after the optimizer step (e.g. MoCo's enqueue of the keys); must not leak tensors. */
  afterStep?(context: PretextContext, batch: PretextBatch): void;
  /** Extra models to checkpoint in the tfjs layers format (e.g. MoCo's key encoder), by name (`key-encoder`). */
  models?(): Record<string, ModelLike>;
  /** Extra tensors to checkpoint (e.g. MoCo's queue), by name. */
  tensors?(): Record<string, tf.Tensor>;
  /** Restores tensors saved from {@link PretextTaskV1.tensors}. */
  loadTensors?(tensors: Record<string, tf.Tensor>): void;
  /** JSON state to checkpoint (e.g. Jigsaw's permutations, a queue pointer). */
  state(): JsonValue;
  /** Restores {@link PretextTaskV1.state}. */
  loadState(state: JsonValue): void;
  /** Frees the task's tensors. */
  dispose?(): void;
}

/** A plugin package's default export. */
export type PretextTaskFactory<Options = Record<string, unknown>> = (options?: Options) => PretextTaskV1;

/** True when `value` implements {@link PretextTaskV1} (checked structurally, safe across package copies). */
export function isPretextTaskV1(value: unknown): value is PretextTaskV1 {
  const v = value as PretextTaskV1;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.specificationVersion === 'v1' &&
    typeof v.name === 'string' &&
    typeof v.createHeads === 'function' &&
    typeof v.makeBatch === 'function' &&
    typeof v.loss === 'function' &&
    typeof v.state === 'function' &&
    typeof v.loadState === 'function' &&
    (v.combine === 'adversarial' || v.combine === 'mean')
  );
}
