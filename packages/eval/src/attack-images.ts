import * as tf from '@tensorflow/tfjs-core';
import { emit, InvalidArgumentError, Rng, type EventListener } from '@moco-robust/core';
import {
  fgsm,
  instancePgd,
  mocoFgsm,
  mocoLoss,
  mocoPgd,
  supervisedPgd,
  toForward,
  validateEpsilon,
  validateStepSize,
  validateSteps,
  type ModelLikeForward,
  type MocoObjective,
} from '@moco-robust/attacks';
import { assertImageSet, sliceImages, sliceLabels, type LabelledImageSet } from '@moco-robust/data';
import { checkClassifierData } from './check-model-data';
import type { EvaluateEvent } from './evaluate-robustness';

/** The attacks of {@link attackImages}: labelled (`fgsm`, `pgd`) or label-free (`instance`, `moco-pgd` / `-fgsm`). */
export type ImageAttackName = 'fgsm' | 'pgd' | 'instance' | 'moco-pgd' | 'moco-fgsm';

/** Options of {@link attackImages}; ε and the step in [0, 1] pixel units. */
export interface AttackImagesOptions {
  attack: ImageAttackName;
  /**
   * `fgsm` / `pgd`: the classifier attacked (images in [0, 1] → logits); `instance`: the model whose output features
   * are attacked; `moco-*`: optional, a classifier whose accuracy the crafted images cost.
   */
  model?: ModelLikeForward;
  /**
   * `moco-pgd` / `moco-fgsm`: builds the MoCo objective of a batch (its keys and the queue of negatives, e.g.
   * `mocoObjective` of @moco-robust/moco); its `dispose()` frees what it built. Called twice a batch (craft, measure).
   */
  objective?: (x: tf.Tensor4D) => MocoObjective & { dispose(): void };
  /** L∞ radius; e.g. 8/255. */
  epsilon: number;
  /** Step of the iterative attacks; e.g. 2/255. */
  stepSize: number;
  /** Steps of the iterative attacks; e.g. 10. */
  steps: number;
  /** Images per batch; default 128. */
  batchSize?: number;
  /** Seed of the random starts (batch `start` uses the fork `batch/<start>`); default 0. */
  seed?: number;
  /** Progress after every batch (`eval-progress`, `attack` = the attack's name). */
  onEvent?: EventListener<EvaluateEvent>;
}

/** How far a label-free MoCo attack moved the representation, averaged over the images. */
export interface RepresentationShift {
  /** Mean cosine similarity of each adversarial embedding to its clean key. */
  cosineSimilarity: number;
  /** Mean MoCo InfoNCE loss of the clean and of the adversarial images. */
  cleanLoss: number;
  adversarialLoss: number;
  /** Negatives in the queue and the InfoNCE temperature. */
  negatives: number;
  temperature: number;
}

/** Result of {@link attackImages}. */
export interface AttackImagesResult {
  /** The adversarial images as bytes (x·255 rounded), laid out like the set's images. */
  adversarial: Uint8Array;
  /** Images attacked. */
  images: number;
  /** Accuracy of `model` on the clean and the adversarial images (not for `instance`, nor `moco-*` without a model). */
  cleanAccuracy?: number;
  adversarialAccuracy?: number;
  /** `moco-*`: how far the representation moved. */
  representation?: RepresentationShift;
}

/**
 * Crafts adversarial examples of every image of a labelled set in batches — FGSM or PGD on a classifier's labels,
 * RoCL's instance-wise PGD on a model's features, or the paper's label-free MoCo-PGD / MoCo-FGSM (Section 3) on an
 * encoder's MoCo loss — and measures what they cost: a classifier's clean and adversarial accuracy, and for MoCo how
 * far the representation moved. Never prints; leaves no tensor behind.
 */
export async function attackImages(set: LabelledImageSet, options: AttackImagesOptions): Promise<AttackImagesResult> {
  assertImageSet(set, 'set', { labelled: true });
  const { attack } = options;
  if (!['fgsm', 'pgd', 'instance', 'moco-pgd', 'moco-fgsm'].includes(attack))
    throw new InvalidArgumentError({
      argument: 'attack',
      expected: 'fgsm, pgd, instance, moco-pgd or moco-fgsm',
      received: attack,
    });
  const moco = attack === 'moco-pgd' || attack === 'moco-fgsm';
  if (moco && typeof options.objective !== 'function')
    throw new InvalidArgumentError({
      argument: 'objective',
      expected: `a function building the MoCo objective of a batch (${attack} is label-free on an encoder)`,
      received: options.objective,
    });
  if (!moco && !options.model)
    throw new InvalidArgumentError({ argument: 'model', expected: `a model for ${attack}`, received: options.model });
  const epsilon = validateEpsilon(options.epsilon);
  const stepSize = validateStepSize(options.stepSize);
  const steps = validateSteps(options.steps);
  const batchSize = options.batchSize ?? 128;
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new InvalidArgumentError({ argument: 'batchSize', expected: 'a positive integer', received: batchSize });
  // the accuracy is a classifier's: every attack but instance (whose model gives features) measures one if given
  const classifier = attack === 'instance' ? undefined : options.model;
  if (classifier) checkClassifierData(classifier, set);
  const forward = classifier ? toForward(classifier) : undefined;
  const imageBytes = set.images.length / Math.max(1, set.count);
  const rng = Rng.fromSeed(options.seed ?? 0);
  const adversarial = new Uint8Array(set.images.length);
  const shift = { cosine: 0, cleanLoss: 0, adversarialLoss: 0, negatives: 0, temperature: 0 };
  let cleanCorrect = 0;
  let adversarialCorrect = 0;
  for (let start = 0; start < set.count; start += batchSize) {
    const size = Math.min(batchSize, set.count - start);
    const x = sliceImages(set, start, size);
    const y = sliceLabels(set, start, size);
    const batchRng = rng.fork(`batch/${start}`);
    let xAdv: tf.Tensor4D;
    if (moco) {
      const objective = options.objective!(x);
      try {
        xAdv =
          attack === 'moco-fgsm'
            ? mocoFgsm(objective, x, { epsilon })
            : mocoPgd(objective, x, { epsilon, stepSize, steps, rng: batchRng });
      } finally {
        objective.dispose();
      }
    } else if (attack === 'fgsm') xAdv = fgsm(options.model!, x, y, { epsilon });
    else if (attack === 'pgd') xAdv = supervisedPgd(options.model!, x, y, { epsilon, stepSize, steps, rng: batchRng });
    else {
      const positives = tf.tidy(() => toForward(options.model!)(x));
      xAdv = instancePgd({ embed: options.model!, positives }, x, { epsilon, stepSize, steps, rng: batchRng });
      positives.dispose();
    }
    const bytes = tf.tidy(() => tf.cast(tf.round(tf.mul(xAdv, 255)), 'int32'));
    adversarial.set(Uint8Array.from(await bytes.data()), start * imageBytes);
    if (moco) await measureShift(options.objective!(x), x, xAdv, shift);
    if (forward) {
      const [cleanPredictions, adversarialPredictions] = tf.tidy(() => [
        tf.cast(tf.argMax(forward(x), 1), 'int32'),
        tf.cast(tf.argMax(forward(xAdv), 1), 'int32'),
      ]);
      const [p, q] = [await cleanPredictions.data(), await adversarialPredictions.data()];
      for (let i = 0; i < size; i++) {
        if (p[i] === set.labels[start + i]) cleanCorrect++;
        if (q[i] === set.labels[start + i]) adversarialCorrect++;
      }
      tf.dispose([cleanPredictions, adversarialPredictions]);
    }
    tf.dispose([x, y, xAdv, bytes]);
    emit(options.onEvent, { type: 'eval-progress', done: start + size, total: set.count, attack });
  }
  const result: AttackImagesResult = { adversarial, images: set.count };
  if (forward) {
    result.cleanAccuracy = cleanCorrect / set.count;
    result.adversarialAccuracy = adversarialCorrect / set.count;
  }
  if (moco) {
    result.representation = {
      cosineSimilarity: shift.cosine / set.count,
      cleanLoss: shift.cleanLoss / set.count,
      adversarialLoss: shift.adversarialLoss / set.count,
      negatives: shift.negatives,
      temperature: shift.temperature,
    };
  }
  return result;
}

/**
 * Adds a batch's representation shift to `totals`: the summed cosine similarity of each adversarial embedding (query
 * encoder, inference mode) to its clean key, and the summed MoCo loss of the clean and the adversarial images.
 * Disposes `objective`.
 */
async function measureShift(
  objective: MocoObjective & { dispose(): void },
  x: tf.Tensor4D,
  xAdv: tf.Tensor4D,
  totals: { cosine: number; cleanLoss: number; adversarialLoss: number; negatives: number; temperature: number },
): Promise<void> {
  try {
    const query = toForward(objective.query, 'objective.query', false);
    const [cosine, cleanLoss, adversarialLoss] = tf.tidy(() => {
      const embedding = query(xAdv); // [N, d]
      const unit = tf.div(embedding, tf.norm(embedding, 'euclidean', 1, true));
      const loss = mocoLoss(objective);
      return [tf.sum(tf.mul(unit, objective.keys)), tf.sum(loss(x)), tf.sum(loss(xAdv))];
    });
    totals.cosine += (await cosine.data())[0];
    totals.cleanLoss += (await cleanLoss.data())[0];
    totals.adversarialLoss += (await adversarialLoss.data())[0];
    totals.negatives = objective.queue.shape[0];
    totals.temperature = objective.temperature ?? 0.2;
    tf.dispose([cosine, cleanLoss, adversarialLoss]);
  } finally {
    objective.dispose();
  }
}
