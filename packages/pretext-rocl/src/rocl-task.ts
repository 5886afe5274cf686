import * as tf from '@tensorflow/tfjs-core';
import {
  assertImages,
  InvalidArgumentError,
  ntXent,
  type JsonValue,
  type PretextContext,
  type PretextEncoder,
  type PretextHeads,
  type PretextTaskV1,
  type Rng,
} from '@moco-robust/core';
import { DEFAULT_EPSILON, instancePgd } from '@moco-robust/attacks';
import { twoViews, type AugmentationPipeline, type TwoViews } from '@moco-robust/data';
import { projectionHead } from '@moco-robust/models';
import { multiViewNtXent } from './multi-view-nt-xent';

/** The two-view augmentation RoCL takes as `augment` (defined in @moco-robust/data). */
export type { TwoViews };

/**
 * RoCL's CIFAR augmentation (its `data_loader.py`, colour-jitter strength 0.5): RandomResizedCrop(32,
 * scale 0.08–1), horizontal flip, ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8, RandomGrayscale 0.2.
 * (RoCL jitters before cropping; `@moco-robust/data` crops first.)
 */
export const ROCL_AUGMENTATION: AugmentationPipeline = {
  randomResizedCrop: { scale: [0.08, 1] },
  horizontalFlip: 0.5,
  colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 },
  grayscale: 0.2,
};

/** RoCL's instance-wise attack settings (its `argument.py`): ε 8/255 (0.0314), step 0.007, 7 steps, random start. */
export const ROCL_ATTACK = { epsilon: DEFAULT_EPSILON, stepSize: 0.007, steps: 7, randomStart: true } as const;

/** Options of {@link roclTask}; defaults are RoCL's (Kim et al., NeurIPS 2020, and its code). */
export interface RoclTaskOptions {
  /** The two SimCLR views t(x), t'(x); default `twoViews(images, ROCL_AUGMENTATION, rng)` of `@moco-robust/data`. */
  augment?: TwoViews;
  /** NT-Xent temperature; default 0.5. */
  temperature?: number;
  /** Weight λ of the regulariser NT-Xent(t(x)^adv, target); default 1/256 (RoCL's `--lamda 256`, applied as 1/λ). */
  lambda?: number;
  /** The regulariser's positive: `other` = t'(x) (RoCL's default and its paper's eq. 7) or `original` = t(x). */
  regularizeTo?: 'other' | 'original';
  /** Projection head output width; default 128. */
  dim?: number;
  /** Projection head hidden width (2-layer MLP with ReLU); default 2048 (RoCL's projector). */
  hiddenDim?: number;
  /**
   * `rocl`: craft with {@link ROCL_ATTACK} whatever the engine's attack settings; `engine`: with the engine's ε, step,
   * steps, random start (e.g. FGSM). Default `rocl`.
   */
  attack?: 'rocl' | 'engine';
}

/** A RoCL {@link PretextTaskV1} that also exposes its embedding. */
export interface RoclTask extends PretextTaskV1 {
  /** Encoder + projection head: images [N, H, W, 3] → embeddings [N, dim] (not normalised); differentiable. */
  embed(context: PretextContext, images: tf.Tensor4D, training: boolean): tf.Tensor2D;
}

/**
 * RoCL — adversarial self-supervised contrastive learning (Kim et al., NeurIPS 2020) — as a
 * {@link PretextTaskV1}: two SimCLR views t(x), t'(x) per image; the task's own attack (`craft`) is
 * the instance-wise attack (`instancePgd`: PGD maximising the NT-Xent loss of the perturbed t(x)
 * against t'(x), the rest of the batch as negatives); its own training loss (`trainingLoss`) is the
 * multi-positive NT-Xent over {t(x), t'(x), t(x)^adv} (each anchor's positives are its two other
 * views) plus λ·NT-Xent(t(x)^adv, t'(x)). The projection head (`heads.projection`) is a 2-layer MLP
 * to 128. `loss` is the per-example two-view NT-Xent of `inputs` against t'(x) (the pretext loss).
 */
export function roclTask(options: RoclTaskOptions = {}): RoclTask {
  const temperature = options.temperature ?? 0.5;
  const lambda = options.lambda ?? 1 / 256;
  const regularizeTo = options.regularizeTo ?? 'other';
  const dim = options.dim ?? 128;
  const hiddenDim = options.hiddenDim ?? 2048;
  const attackMode = options.attack ?? 'rocl';
  const augment: TwoViews = options.augment ?? ((images, rng) => twoViews(images, ROCL_AUGMENTATION, rng));
  if (typeof augment !== 'function')
    throw new InvalidArgumentError({
      argument: 'augment',
      expected: 'a two-view augmentation (images, rng) => [view1, view2]',
      received: augment,
    });
  if (!(temperature > 0))
    throw new InvalidArgumentError({
      argument: 'temperature',
      expected: 'a positive number (RoCL: 0.5)',
      received: temperature,
    });
  if (!(lambda >= 0))
    throw new InvalidArgumentError({ argument: 'lambda', expected: 'a number ≥ 0 (RoCL: 1/256)', received: lambda });
  if (regularizeTo !== 'other' && regularizeTo !== 'original')
    throw new InvalidArgumentError({
      argument: 'regularizeTo',
      expected: "'other' or 'original'",
      received: regularizeTo,
    });
  if (attackMode !== 'rocl' && attackMode !== 'engine')
    throw new InvalidArgumentError({ argument: 'attack', expected: "'rocl' or 'engine'", received: attackMode });

  const embed = (context: PretextContext, images: tf.Tensor4D, training: boolean): tf.Tensor2D =>
    tf.tidy(
      () =>
        context.heads.projection.apply(context.encoder.model.apply(images, { training }) as tf.Tensor, {
          training,
        }) as tf.Tensor2D,
    );

  return {
    specificationVersion: 'v1',
    name: 'rocl',
    combine: 'adversarial', // unused: trainingLoss replaces it

    createHeads(encoder: PretextEncoder, rng: Rng): PretextHeads {
      return {
        projection: projectionHead({
          kind: 'mlp',
          inputDim: encoder.featureDim,
          hiddenDim,
          outputDim: dim,
          rng: rng.fork('projection'),
          name: 'rocl_projection',
        }),
      };
    },

    makeBatch(images, rng) {
      assertImages(images, 'images');
      const [view1, view2] = augment(images, rng.fork('views'));
      return { inputs: view1, targets: { otherView: view2 } };
    },

    embed,

    loss(context, inputs, targets) {
      return tf.tidy(() => {
        const n = inputs.shape[0];
        const perAnchor = ntXent(
          embed(context, inputs, context.training),
          embed(context, targets.otherView as tf.Tensor4D, context.training),
          temperature,
        ); // [2N]
        return tf.div(tf.add(tf.slice(perAnchor, [0], [n]), tf.slice(perAnchor, [n], [n])), 2) as tf.Tensor1D; // [N]
      });
    },

    craft(context, inputs, targets, attack) {
      const settings =
        attackMode === 'rocl'
          ? ROCL_ATTACK
          : {
              epsilon: attack.epsilon,
              stepSize: attack.stepSize,
              steps: attack.steps,
              randomStart: attack.randomStart,
            };
      // [N, dim], constant during the attack
      const positives = embed(context, targets.otherView as tf.Tensor4D, attack.training);
      try {
        return instancePgd(
          { embed: (x) => embed(context, x, attack.training), positives, temperature, training: attack.training },
          inputs,
          { ...settings, rng: attack.rng },
        );
      } finally {
        positives.dispose();
      }
    },

    trainingLoss(context, inputs, adversarial, targets) {
      return tf.tidy(() => {
        const n = inputs.shape[0];
        const views = adversarial
          ? [inputs, targets.otherView as tf.Tensor4D, adversarial]
          : [inputs, targets.otherView as tf.Tensor4D];
        // one forward of all views, as RoCL: batch-norm statistics over the whole 2N / 3N batch
        const z = embed(context, tf.concat(views, 0) as tf.Tensor4D, context.training); // [V·N, dim]
        const parts = views.map((_, v) => tf.slice(z, [v * n, 0], [n, -1]) as tf.Tensor2D);
        const contrastive = tf.mean(multiViewNtXent(parts, temperature));
        if (!adversarial || lambda === 0) return contrastive as tf.Scalar;
        const target = regularizeTo === 'other' ? parts[1] : parts[0];
        return tf.add(contrastive, tf.mul(lambda, tf.mean(ntXent(parts[2], target, temperature)))) as tf.Scalar;
      });
    },

    state: (): JsonValue => ({ task: 'rocl', temperature, lambda, regularizeTo, dim, hiddenDim, attack: attackMode }),
    loadState(state) {
      const saved = state as { task?: unknown } | null;
      if (saved !== null && saved !== undefined && saved.task !== undefined && saved.task !== 'rocl') {
        throw new InvalidArgumentError({
          argument: 'state',
          expected: "the state of a RoCL task ({task: 'rocl'})",
          received: saved.task,
        });
      }
    },
  };
}
