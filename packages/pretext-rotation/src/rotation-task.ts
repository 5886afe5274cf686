import * as tf from '@tensorflow/tfjs-core';
import {
  assertImages,
  crossEntropy,
  InvalidArgumentError,
  type JsonValue,
  type PretextContext,
  type PretextEncoder,
  type PretextHeads,
  type PretextTaskV1,
  type Rng,
} from '@moco-robust/core';
import { classifierHead } from '@moco-robust/models';
import { ROTATION_CLASSES, rotateImages } from './rotate-images';
import { balancedRotationLabels } from './rotation-labels';

/** Options of {@link rotationTask}. */
export interface RotationTaskOptions {
  /**
   * Augmentation of the clean images before they are rotated, seeded (Chen et al. use a random crop
   * with 4-pixel zero padding and a horizontal flip: pass `randomCropFlip` of `@moco-robust/data`).
   * Must return a new tensor of the same shape. Default: none.
   */
  augment?: (images: tf.Tensor4D, rng: Rng) => tf.Tensor4D;
}

/**
 * Rotation prediction (Gidaris et al., ICLR 2018) as an adversarial pretext task, as pre-trained by
 * Chen et al. (CVPR 2020): each image of a batch is rotated counter-clockwise by k·90°, the labels
 * k ∈ {0, 1, 2, 3} balanced within the batch, and a linear classifier on the encoder's features (the
 * `fc` layer of their ResNet) predicts k with cross-entropy. The engine attacks the rotated images
 * with PGD on this loss and trains on the mean of the clean and adversarial losses (`combine: 'mean'`).
 * The head is `heads.classifier` (saved under `heads/classifier/`).
 */
export function rotationTask(options: RotationTaskOptions = {}): PretextTaskV1 {
  const { augment } = options;
  if (augment !== undefined && typeof augment !== 'function') {
    throw new InvalidArgumentError({
      argument: 'augment',
      expected: 'a function (images, rng) => images',
      received: augment,
    });
  }

  return {
    specificationVersion: 'v1',
    name: 'rotation',
    combine: 'mean',

    createHeads(encoder: PretextEncoder, rng: Rng): PretextHeads {
      return {
        classifier: classifierHead({
          inputDim: encoder.featureDim,
          numClasses: ROTATION_CLASSES,
          rng: rng.fork('classifier'),
          name: 'rotation_head',
        }),
      };
    },

    makeBatch(images, rng) {
      assertImages(images, 'images');
      const labels = balancedRotationLabels(images.shape[0], rng.fork('labels'));
      return tf.tidy(() => {
        const source = augment ? augment(images, rng.fork('augment')) : images;
        return { inputs: rotateImages(source, labels), targets: { labels: tf.tensor1d(labels, 'int32') } };
      });
    },

    loss(context: PretextContext, inputs, targets) {
      return tf.tidy(() => {
        // [N, featureDim]
        const features = context.encoder.model.apply(inputs, { training: context.training }) as tf.Tensor2D;
        // [N, 4]
        const logits = context.heads.classifier.apply(features, { training: context.training }) as tf.Tensor2D;
        return crossEntropy(logits, targets.labels as tf.Tensor1D);
      });
    },

    state: (): JsonValue => ({ task: 'rotation', classes: ROTATION_CLASSES }),
    loadState(state) {
      const saved = state as { task?: unknown } | null;
      if (saved !== null && saved !== undefined && saved.task !== undefined && saved.task !== 'rotation') {
        throw new InvalidArgumentError({
          argument: 'state',
          expected: "the state of a rotation task ({task: 'rotation'})",
          received: saved.task,
        });
      }
    },
  };
}
