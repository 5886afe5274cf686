// The playground's attack step: one image at a time through @moco-robust/attacks (no attack code here).
import * as tf from '@tensorflow/tfjs-core';
import {
  fgsm,
  mocoApgd,
  mocoFgsm,
  mocoPgd,
  supervisedApgd,
  supervisedPgd,
  toForward,
  type ModelLikeForward,
} from '@moco-robust/attacks';
import { imagesFromUint8, l2Normalize, Rng } from '@moco-robust/core';

/**
 * The attacks the page offers: FGSM, PGD and APGD-CE (AutoAttack's first attack; no step size) use the label;
 * MoCo-FGSM, MoCo-PGD and MoCo-APGD use none.
 */
export const PLAYGROUND_ATTACKS = ['fgsm', 'pgd', 'apgd-ce', 'moco-fgsm', 'moco-pgd', 'moco-apgd'] as const;
export type PlaygroundAttack = (typeof PLAYGROUND_ATTACKS)[number];

/** The label-free attacks' objective: the query encoder + projection, the key encoder + projection and the queue. */
export interface MocoParts {
  /** Query encoder (+ projection head): images → embeddings [N, d]. */
  query: (x: tf.Tensor4D) => tf.Tensor2D;
  /** Momentum (key) encoder (+ projection head); the query encoder when the run has none. */
  key: (x: tf.Tensor4D) => tf.Tensor2D;
  /** Negatives [K, d], L2-normalised: the run's MoCo queue, or the key embeddings of the loaded images. */
  queue: tf.Tensor2D;
  temperature: number;
}

export interface AttackSettings {
  attack: PlaygroundAttack;
  /** L∞ radius in [0, 1] pixel units. */
  epsilon: number;
  stepSize: number;
  steps: number;
  seed: number;
}

export interface ImageResult {
  /** The label the label attacks used (the true one, or the clean prediction for an uploaded image). */
  label: number;
  cleanProbabilities: number[];
  adversarialProbabilities: number[];
  cleanPrediction: number;
  adversarialPrediction: number;
  /** The adversarial image, uint8 HWC [32·32·3]. */
  adversarial: Uint8Array;
  /** Cosine similarity of the query embeddings of the clean and adversarial image (when an encoder is loaded). */
  representationCosine?: number;
  milliseconds: number;
}

/**
 * Attacks one image (uint8 HWC, 32×32×3) with `settings`; the random start of image `key` comes from
 * `Rng.fromSeed(seed).fork('image/<key>')`, so a selection gives the same result in any order. `label` undefined: the
 * label attacks use the clean prediction.
 */
export async function attackImage(
  classifier: ModelLikeForward,
  moco: MocoParts | undefined,
  image: Uint8Array,
  label: number | undefined,
  key: string,
  settings: AttackSettings,
): Promise<ImageResult> {
  const started = performance.now();
  const forward = toForward(classifier);
  const x = imagesFromUint8(image, 1);
  const cleanProbabilities = tf.tidy(() => tf.softmax(forward(x)));
  const clean = Array.from(await cleanProbabilities.data());
  const target = label ?? argMax(clean);
  const rng = Rng.fromSeed(settings.seed).fork(`image/${key}`);
  const xAdv = craft(forward, moco, x, target, settings, rng);
  const [adversarialProbabilities, bytes, cosine] = tf.tidy(() => [
    tf.softmax(forward(xAdv)),
    tf.cast(tf.round(tf.mul(xAdv, 255)), 'int32'),
    moco ? tf.sum(tf.mul(l2Normalize(moco.query(x)), l2Normalize(moco.query(xAdv)))) : tf.scalar(Number.NaN),
  ]);
  const adversarial = Array.from(await adversarialProbabilities.data());
  const result: ImageResult = {
    label: target,
    cleanProbabilities: clean,
    adversarialProbabilities: adversarial,
    cleanPrediction: argMax(clean),
    adversarialPrediction: argMax(adversarial),
    adversarial: Uint8Array.from(await bytes.data()),
    milliseconds: 0,
    ...(moco ? { representationCosine: (await cosine.data())[0] } : {}),
  };
  tf.dispose([x, xAdv, cleanProbabilities, adversarialProbabilities, bytes, cosine]);
  result.milliseconds = performance.now() - started;
  return result;
}

function craft(
  forward: (x: tf.Tensor4D) => tf.Tensor2D,
  moco: MocoParts | undefined,
  x: tf.Tensor4D,
  label: number,
  settings: AttackSettings,
  rng: Rng,
): tf.Tensor4D {
  const { attack, epsilon, stepSize, steps } = settings;
  if (attack === 'fgsm' || attack === 'pgd' || attack === 'apgd-ce') {
    const y = tf.tensor1d([label], 'int32');
    let xAdv: tf.Tensor4D;
    if (attack === 'fgsm') xAdv = fgsm(forward, x, y, { epsilon });
    else if (attack === 'pgd') xAdv = supervisedPgd(forward, x, y, { epsilon, stepSize, steps, rng });
    else xAdv = supervisedApgd(forward, x, y, { epsilon, steps, rng });
    y.dispose();
    return xAdv;
  }
  if (!moco)
    throw new Error(`${attack} needs an encoder: start the playground with --encoder, or drop one in the page`);
  // the key of the clean image from the momentum encoder, constant during the attack (as in pre-training)
  const keys = tf.tidy(() => moco.key(x)); // [1, d]
  const objective = { query: moco.query, keys, queue: moco.queue, temperature: moco.temperature };
  let xAdv: tf.Tensor4D;
  if (attack === 'moco-fgsm') xAdv = mocoFgsm(objective, x, { epsilon });
  else if (attack === 'moco-pgd') xAdv = mocoPgd(objective, x, { epsilon, stepSize, steps, rng });
  else xAdv = mocoApgd(objective, x, { epsilon, steps, rng });
  keys.dispose();
  return xAdv;
}

function argMax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
