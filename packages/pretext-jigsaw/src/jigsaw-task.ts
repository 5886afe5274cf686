import * as tf from '@tensorflow/tfjs-core';
import {
  assertImages,
  crossEntropy,
  InvalidArgumentError,
  Rng,
  type JsonValue,
  type PretextContext,
  type PretextEncoder,
  type PretextHeads,
  type PretextTaskV1,
} from '@moco-robust/core';
import { classifierHead } from '@moco-robust/models';
import { jigsawLabels, permutationOfLabel } from './jigsaw-labels';
import { assertPermutations, drawPermutations, type Permutation } from './permutations';
import { shufflePatches } from './shuffle-patches';

/** Options of {@link jigsawTask}; defaults follow Chen et al. 2020 on CIFAR-10. */
export interface JigsawTaskOptions {
  /** Seed of the fixed permutations (drawn once, at construction; saved with every checkpoint). Default 0. */
  seed?: number;
  /** Grid side: images are cut into grid×grid patches (4: 8×8 patches of a 32×32 image). Default 4. */
  grid?: number;
  /** Number of fixed non-identity permutations; the head has this + 1 classes. Default 30. */
  permutations?: number;
  /** Probability that an image is left unshuffled (label 0). Default 0.1. */
  identityProbability?: number;
  /**
   * Augmentation of the clean images before they are shuffled, seeded (Chen et al. use a random crop
   * with 4-pixel zero padding and a horizontal flip: pass `randomCropFlip` of `@moco-robust/data`).
   * Must return a new tensor of the same shape. Default: none.
   */
  augment?: (images: tf.Tensor4D, rng: Rng) => tf.Tensor4D;
}

/**
 * A jigsaw {@link PretextTaskV1} that also exposes its fixed permutations (label c ≥ 1 ↔ `permutations[c − 1]`).
 */
export interface JigsawTask extends PretextTaskV1 {
  readonly permutations: ReadonlyArray<Permutation>;
  readonly grid: number;
}

/**
 * Jigsaw puzzles (Noroozi & Favaro, ECCV 2016) as an adversarial pretext task, as pre-trained by Chen
 * et al. (CVPR 2020) on CIFAR-10: each image is cut into a 4×4 grid of 8×8 patches and reassembled
 * as a 32×32 image (so the encoder is unchanged) in the order of one of 30 fixed random permutations,
 * or left as is with probability 0.1; a linear classifier on the encoder's features predicts which of
 * the 31 orders was used with cross-entropy. Labels: 0 = identity, c = `permutations[c − 1]`, where
 * slot j of the shuffled image shows original piece `permutation[j]` (pieces row-major). The engine
 * attacks the shuffled images with PGD on this loss and trains on the mean of the clean and
 * adversarial losses (`combine: 'mean'`). The head is `heads.classifier` (saved under `heads/classifier/`).
 */
export function jigsawTask(options: JigsawTaskOptions = {}): JigsawTask {
  const seed = options.seed ?? 0;
  const grid = options.grid ?? 4;
  const count = options.permutations ?? 30;
  const identityProbability = options.identityProbability ?? 0.1;
  const { augment } = options;
  if (!(Number.isInteger(grid) && grid >= 2))
    throw new InvalidArgumentError({ argument: 'grid', expected: 'an integer ≥ 2', received: grid });
  if (!(Number.isFinite(identityProbability) && identityProbability >= 0 && identityProbability <= 1)) {
    throw new InvalidArgumentError({
      argument: 'identityProbability',
      expected: 'a number in [0, 1]',
      received: identityProbability,
    });
  }
  if (augment !== undefined && typeof augment !== 'function') {
    throw new InvalidArgumentError({
      argument: 'augment',
      expected: 'a function (images, rng) => images',
      received: augment,
    });
  }
  const pieces = grid * grid;
  let permutations = drawPermutations(count, pieces, Rng.fromSeed(seed).fork('jigsaw-permutations'));
  let permutationSeed: JsonValue = seed; // the seed of the permutations in use (a loaded state's)

  return {
    specificationVersion: 'v1',
    name: 'jigsaw',
    combine: 'mean',
    grid,
    get permutations() {
      return permutations;
    },

    createHeads(encoder: PretextEncoder, rng: Rng): PretextHeads {
      return {
        classifier: classifierHead({
          inputDim: encoder.featureDim,
          numClasses: count + 1,
          rng: rng.fork('classifier'),
          name: 'jigsaw_head',
        }),
      };
    },

    makeBatch(images, rng) {
      assertImages(images, 'images');
      const labels = jigsawLabels(images.shape[0], count, identityProbability, rng.fork('labels'));
      const orders = Array.from(labels, (label) => permutationOfLabel(label, permutations, pieces));
      return tf.tidy(() => {
        const source = augment ? augment(images, rng.fork('augment')) : images;
        return { inputs: shufflePatches(source, orders, grid), targets: { labels: tf.tensor1d(labels, 'int32') } };
      });
    },

    loss(context: PretextContext, inputs, targets) {
      return tf.tidy(() => {
        // [N, featureDim]
        const features = context.encoder.model.apply(inputs, { training: context.training }) as tf.Tensor2D;
        // [N, 1 + permutations]
        const logits = context.heads.classifier.apply(features, { training: context.training }) as tf.Tensor2D;
        return crossEntropy(logits, targets.labels as tf.Tensor1D);
      });
    },

    state: (): JsonValue => ({ task: 'jigsaw', seed: permutationSeed, grid, identityProbability, permutations }),
    loadState(state) {
      const saved = state as { task?: unknown; seed?: JsonValue; grid?: unknown; permutations?: unknown } | null;
      if (saved === null || typeof saved !== 'object' || saved.task !== 'jigsaw') {
        throw new InvalidArgumentError({
          argument: 'state',
          expected: "the state of a jigsaw task ({task: 'jigsaw', permutations, …})",
          received: saved,
        });
      }
      if (saved.grid !== grid)
        throw new InvalidArgumentError({
          argument: 'state.grid',
          expected: `the task's grid ${grid}`,
          received: saved.grid,
        });
      permutations = assertPermutations(saved.permutations, 'state.permutations', count, pieces);
      permutationSeed = saved.seed ?? null;
    },
  };
}
