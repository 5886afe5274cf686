import * as tf from '@tensorflow/tfjs-core';
import {
  assertGradientsRegistered,
  emit,
  InvalidArgumentError,
  Rng,
  withConstantWeights,
  type EventListener,
} from '@moco-robust/core';
import { apgdTargeted } from './apgd-targeted';
import { DEFAULT_EPSILON } from './attack-settings';
import { fabTargeted } from './fab';
import { checkAttackInputs } from './input-checks';
import { toForward, type ModelLikeForward } from './model-forward';
import { gatherRows, indicesWhere, replaceRows } from './rows';
import { square } from './square';
import { supervisedApgd } from './supervised-apgd';

/** The attacks AutoAttack composes. */
import { AUTOATTACK_VERSIONS, type AutoAttackName } from './attack-constants';

export { AUTOATTACK_VERSIONS, type AutoAttackName };

/** Options of {@link autoAttack}; ε in [0, 1] pixel units. */
export interface AutoAttackOptions {
  /** Which attacks: `standard` (default) or `cpu` (APGD-CE + APGD-T); see {@link AUTOATTACK_VERSIONS}. */
  version?: 'standard' | 'cpu';
  /** An explicit list of attacks instead of a version, run in this order. */
  attacks?: AutoAttackName[];
  /** L∞ radius; default 8/255. */
  epsilon?: number;
  /** Seed of every attack's random draws; default 0. */
  seed?: number;
  /** APGD and FAB-T iterations; default 100. */
  steps?: number;
  /** APGD-T and FAB-T target classes; default 9. */
  targets?: number;
  /** Square's query budget; default 5,000. */
  queries?: number;
  /** Images per attack batch; default 250 (AutoAttack's). */
  batchSize?: number;
  /** Batch-norm/dropout mode of a `LayersModel`; default false (inference). */
  training?: boolean;
  /** Progress: one event per attack batch. */
  onEvent?: EventListener<AutoAttackEvent>;
}

/** Progress of {@link autoAttack}. */
export type AutoAttackEvent = { type: 'autoattack-progress'; attack: AutoAttackName; done: number; total: number };

/** One attack's line in the cascade. */
export interface AutoAttackStage {
  attack: AutoAttackName;
  /** Points still robust when it started (the only ones it attacked). */
  attacked: number;
  /** Points it broke. */
  broke: number;
  /** Points still robust after it. */
  robustAfter: number;
}

/** Result of {@link autoAttack}. */
export interface AutoAttackResult {
  version: 'standard' | 'cpu' | 'custom';
  epsilon: number;
  total: number;
  /** Correctly classified clean images. */
  clean: number;
  /** Images no attack broke. */
  robust: number;
  cleanAccuracy: number;
  robustAccuracy: number;
  /** Per attack, in order: how many points it attacked and broke. */
  cascade: AutoAttackStage[];
  /** 1 where the image is still correctly classified after every attack. */
  robustFlags: Uint8Array;
  /** The adversarial images (the clean image where no attack succeeded): the caller disposes it. */
  adversarial: tf.Tensor4D;
  /** What should be known when reading the number (none so far: kept for skipped or changed attacks). */
  notes: string[];
}

/**
 * AutoAttack (Croce & Hein, ICML 2020) for L∞: APGD-CE, then APGD-T (9 targets), FAB-T (9 targets) and
 * Square (5,000 queries), each run only on the points every earlier attack left correctly classified; the
 * robust accuracy is the fraction no attack broke. Returns the per-attack cascade. Defaults: ε 8/255,
 * seed 0, 100 APGD and FAB-T iterations, inference mode.
 */
export function autoAttack(
  model: ModelLikeForward,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: AutoAttackOptions = {},
): AutoAttackResult {
  // one model for the whole cascade: its attacks share the rotated convolution filters
  return withConstantWeights(() => runAutoAttack(model, x, y, options));
}

function runAutoAttack(
  model: ModelLikeForward,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: AutoAttackOptions,
): AutoAttackResult {
  checkAttackInputs(x, { y, model });
  assertGradientsRegistered('autoAttack');
  const version = options.attacks ? 'custom' : (options.version ?? 'standard');
  if (version !== 'custom' && !(version in AUTOATTACK_VERSIONS))
    throw new InvalidArgumentError({ argument: 'version', expected: "'standard' or 'cpu'", received: version });
  const attacks = options.attacks ?? AUTOATTACK_VERSIONS[version as 'standard' | 'cpu'];
  for (const attack of attacks)
    if (!(AUTOATTACK_VERSIONS.standard as readonly string[]).includes(attack))
      throw new InvalidArgumentError({
        argument: 'attacks',
        expected: `names among ${AUTOATTACK_VERSIONS.standard.join(', ')}`,
        received: attack,
      });
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  const batchSize = options.batchSize ?? 250;
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new InvalidArgumentError({ argument: 'batchSize', expected: 'a positive integer', received: batchSize });
  const training = options.training ?? false;
  const forward = toForward(model, 'model', training);
  const rng = Rng.fromSeed(options.seed ?? 0);
  const n = x.shape[0];
  const notes: string[] = [];

  const predictions = (input: tf.Tensor4D, labels: tf.Tensor1D) => {
    const correct = tf.tidy(() => tf.equal(tf.argMax(forward(input), 1), labels));
    const values = correct.dataSync().slice();
    correct.dispose();
    return values;
  };
  const robustFlags = Uint8Array.from(predictions(x, y));
  const clean = robustFlags.reduce((a, b) => a + b, 0);
  let adversarial = x.clone();
  const cascade: AutoAttackStage[] = [];
  for (const attack of attacks) {
    const indices = indicesWhere(robustFlags);
    let broke = 0;
    for (let start = 0; start < indices.length; start += batchSize) {
      const batch = indices.slice(start, start + batchSize);
      const xs = gatherRows(x, batch);
      const ys = gatherRows(y, batch);
      const seed = rng.fork(`${attack}/${start}`);
      const attacked = runAttack(attack, model, xs, ys, { epsilon, training, seed, options });
      const stillCorrect = predictions(attacked, ys);
      const broken = indicesWhere(Array.from(stillCorrect, (c) => (c ? 0 : 1)));
      if (broken.length > 0) {
        const rows = gatherRows(attacked, broken);
        const next = replaceRows(
          adversarial,
          broken.map((j) => batch[j]),
          rows,
        );
        tf.dispose([adversarial, rows]);
        adversarial = next;
        for (const j of broken) robustFlags[batch[j]] = 0;
        broke += broken.length;
      }
      tf.dispose([xs, ys, attacked]);
      emit(options.onEvent, {
        type: 'autoattack-progress',
        attack,
        done: Math.min(start + batchSize, indices.length),
        total: indices.length,
      });
    }
    cascade.push({ attack, attacked: indices.length, broke, robustAfter: indices.length - broke });
  }
  const robust = robustFlags.reduce((a, b) => a + b, 0);
  return {
    version,
    epsilon,
    total: n,
    clean,
    robust,
    cleanAccuracy: n ? clean / n : 0,
    robustAccuracy: n ? robust / n : 0,
    cascade,
    robustFlags,
    adversarial,
    notes,
  };
}

function runAttack(
  attack: AutoAttackName,
  model: ModelLikeForward,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  context: { epsilon: number; training: boolean; seed: Rng; options: AutoAttackOptions },
): tf.Tensor4D {
  const { epsilon, training, seed, options } = context;
  const steps = options.steps ?? 100;
  switch (attack) {
    case 'apgd-ce':
      return supervisedApgd(model, x, y, { epsilon, steps, loss: 'ce', training, rng: seed });
    case 'apgd-t':
      return apgdTargeted(model, x, y, { epsilon, steps, targets: options.targets ?? 9, training, rng: seed });
    case 'fab-t':
      return fabTargeted(model, x, y, { epsilon, steps, targets: options.targets ?? 9, training, rng: seed })
        .adversarial;
    case 'square':
      return square(model, x, y, { epsilon, queries: options.queries ?? 5000, training, rng: seed }).adversarial;
    default:
      throw new InvalidArgumentError({ argument: 'attacks', expected: 'an implemented attack', received: attack });
  }
}
