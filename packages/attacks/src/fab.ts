import * as tf from '@tensorflow/tfjs-core';
import {
  assertGradientsRegistered,
  InvalidArgumentError,
  toRng,
  withConstantWeights,
  type Rng,
} from '@moco-robust/core';
import { linfBoxProjection, linfBoxProjectionAvailable } from '@moco-robust/core/kernels';
import { DEFAULT_EPSILON } from './attack-settings';
import { cleanRanking, targetBatch } from './clean-ranking';
import { checkAttackInputs } from './input-checks';
import { toForward, type ModelLikeForward } from './model-forward';
import { gatherRows, indicesWhere, replaceRows } from './rows';

/** Options of {@link fabTargeted}; ε in [0, 1] pixel units. */
export interface FabOptions {
  /** L∞ radius: an adversarial example counts (and is returned) when it is this close; default 8/255. */
  epsilon?: number;
  /** Iterations per target and restart; default 100. */
  steps?: number;
  /** Target classes tried in turn: the 2nd, 3rd, … highest clean logits; default 9 (AutoAttack's). */
  targets?: number;
  /** Runs per target; the first starts at the clean image, later ones at a random point ε/2 away; default 1. */
  restarts?: number;
  /** Largest weight of the step from the clean image; default 0.1. */
  alphaMax?: number;
  /** Overshoot of each projection; default 1.05. */
  eta?: number;
  /** Pull towards the clean image after an adversarial iterate; default 0.9. */
  beta?: number;
  /** Batch-norm/dropout mode of a `LayersModel`; default false (inference). */
  training?: boolean;
  /** Seed or generator of the random starts (used only when `restarts` > 1); default seed 0. */
  rng?: number | Rng;
}

/** Result of {@link fabTargeted}. */
export interface FabResult {
  /** The closest adversarial example found within ε, else the clean image: [N, H, W, C]; the caller disposes it. */
  adversarial: tf.Tensor4D;
  /** L∞ distance of the closest adversarial example found at any distance (Infinity where none was found). */
  distances: Float32Array;
  /** 1 where an adversarial example within ε was found. */
  success: Uint8Array;
}

/** Bisection halvings of `linfHyperplaneBoxProjection` before its exact solve (float32 resolution). */
const BISECTION_STEPS = 26;

/**
 * The L∞-smallest step `d` that puts each row of `points` on its hyperplane `w·z = b` while
 * staying in the box [0, 1]ᴰ (rows: `points`, `w` [n, D], `b` [n]); where no point of the box lies
 * on the hyperplane, the step to the box corner closest to it. The step is `d_i = ±min(λ, p_i)`
 * (`p_i` the room to the box edge in the helpful direction), and `Σ |w_i|·min(λ, p_i)` is piecewise
 * linear in λ: bisection finds the piece that reaches `b` (no sort, a fixed number of batched ops,
 * no host read) and λ is then solved exactly on it (Croce & Hein, ICML 2020, FAB). Where the backend has the
 * projection as one kernel (the native CPU backend, `linfBoxProjection`), that runs instead: λ exact per row, in one
 * call instead of ≈ 230 kernels (the same steps to float rounding).
 */
export function linfHyperplaneBoxProjection(points: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (linfBoxProjectionAvailable()) return linfBoxProjection(points, w, b);
  return batchedProjection(points, w, b);
}

/** {@link linfHyperplaneBoxProjection} out of tfjs ops, on every backend: bisection, then the exact solve. */
function batchedProjection(points: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const [n] = points.shape;
  const { direction, room, weight, wanted, nonzero } = tf.tidy(() => {
    // orient each hyperplane so that the row has to decrease w·z: w·t − b ≥ 0
    const above = tf.greaterEqual(tf.sub(tf.sum(tf.mul(w, points), 1), b), 0);
    const orientation = tf.reshape(tf.sub(tf.mul(tf.cast(above, 'float32'), 2), 1), [n, 1]); // ±1: [n, 1]
    const wo = tf.mul(w, orientation); // [n, D]
    const up = tf.cast(tf.less(wo, 0), 'float32'); // 1 where the coordinate moves up (towards 1): [n, D]
    const direction = tf.sub(tf.mul(up, 2), 1); // ±1: [n, D]
    return {
      direction,
      room: tf.add(up, tf.mul(points, tf.neg(direction))), // distance to the edge it moves to: [n, D]
      weight: tf.abs(wo),
      // how far w·z must fall: w·t − b ≥ 0: [n, 1]
      wanted: tf.mul(tf.sub(tf.sum(tf.mul(w, points), 1, true), tf.reshape(b, [n, 1])), orientation),
      nonzero: tf.cast(tf.notEqual(wo, 0), 'float32'),
    };
  });
  const fall = (lambda: tf.Tensor) => tf.sum(tf.mul(weight, tf.minimum(room, lambda)), 1, true); // [n, 1]
  let low: tf.Tensor = tf.zeros([n, 1]);
  let high: tf.Tensor = tf.max(room, 1, true);
  for (let i = 0; i < BISECTION_STEPS; i++) {
    const next = tf.tidy(() => {
      const middle = tf.div(tf.add(low, high), 2);
      const enough = tf.greaterEqual(fall(middle), wanted);
      return { low: tf.where(enough, low, middle), high: tf.where(enough, middle, high) };
    });
    tf.dispose([low, high]);
    ({ low, high } = next);
  }
  const step = tf.tidy(() => {
    // on the piece holding λ: the coordinates with room above it move by λ, the others to their edge
    const middle = tf.div(tf.add(low, high), 2);
    const capped = tf.cast(tf.greater(room, middle), 'float32');
    const cappedWeight = tf.sum(tf.mul(weight, capped), 1, true);
    const edgesFall = tf.sum(tf.mul(tf.mul(weight, room), tf.sub(1, capped)), 1, true);
    const exact = tf.relu(tf.div(tf.sub(wanted, edgesFall), tf.maximum(cappedWeight, 1e-30)));
    const reachable = tf.lessEqual(wanted, fall(tf.scalar(2))); // else: the corner closest to the hyperplane
    const lambda = tf.where(reachable, tf.where(tf.greater(cappedWeight, 0), exact, middle), tf.fill([n, 1], 2));
    return tf.mul(tf.mul(direction, tf.minimum(room, lambda)), nonzero) as tf.Tensor2D;
  });
  tf.dispose([direction, room, weight, wanted, nonzero, low, high]);
  return step;
}

/**
 * FAB-T, the targeted Fast Adaptive Boundary attack (Croce & Hein, ICML 2020) for L∞, as in AutoAttack's
 * `standard` version: for each of the `targets` classes with the highest clean logits after the top one,
 * run only on the examples no earlier target has broken within ε, each iteration linearises `f_t − f_y` at
 * the iterate, projects both the iterate and the clean image onto that hyperplane within [0, 1]
 * (`linfHyperplaneBoxProjection`), and steps to a mix of the two (weight of the clean image's
 * projection ≤ `alphaMax`, overshoot `eta`); an adversarial iterate is recorded when it is the closest yet
 * and pulled back towards the clean image by `beta`. Defaults: ε 8/255, 100 steps, 9 targets, 1 restart
 * (then the attack draws nothing random), alphaMax 0.1, eta 1.05, beta 0.9. No host reads inside the
 * iteration loop: one per target and restart.
 */
export function fabTargeted(
  model: ModelLikeForward,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: FabOptions = {},
): FabResult {
  return withConstantWeights(() => runFabTargeted(model, x, y, options));
}

function runFabTargeted(model: ModelLikeForward, x: tf.Tensor4D, y: tf.Tensor1D, options: FabOptions): FabResult {
  checkAttackInputs(x, { y, model });
  assertGradientsRegistered('fabTargeted');
  const o = resolveFabOptions(options);
  const forward = toForward(model, 'model', o.training);
  const n = x.shape[0];
  const ranking = cleanRanking(forward, x, y);
  const { classes, correct: still } = ranking;
  const distances = new Float32Array(n).fill(Number.POSITIVE_INFINITY);
  const success = new Uint8Array(n);
  const radius = Math.fround(o.epsilon);
  let adversarial = x.clone();
  for (let rank = 1; rank <= Math.min(o.targets, classes - 1); rank++) {
    for (let restart = 0; restart < o.restarts; restart++) {
      const indices = indicesWhere(still);
      if (indices.length === 0) break;
      const { xs, ys, target } = targetBatch(ranking, x, indices, rank);
      const seed = restart > 0 ? o.rng.fork(`target-${rank}/restart-${restart}`).tfSeed() : undefined;
      const run = fabRun(forward, xs, ys, target, classes, o, seed);
      const found = run.distance.dataSync();
      const broken: number[] = [];
      found.forEach((distance, j) => {
        const i = indices[j];
        if (distance < distances[i]) distances[i] = distance;
        if (distance <= radius) broken.push(j);
      });
      if (broken.length > 0) {
        const rows = gatherRows(run.adversarial, broken);
        const next = replaceRows(
          adversarial,
          broken.map((j) => indices[j]),
          rows,
        );
        tf.dispose([adversarial, rows]);
        adversarial = next;
        for (const j of broken) {
          still[indices[j]] = 0;
          success[indices[j]] = 1;
        }
      }
      tf.dispose([xs, ys, target, run.adversarial, run.distance]);
    }
  }
  return { adversarial, distances, success };
}

type ResolvedFabOptions = Required<Omit<FabOptions, 'rng'>> & { rng: Rng };

function resolveFabOptions(options: FabOptions): ResolvedFabOptions {
  const positive = (argument: string, value: number) => {
    if (!(Number.isFinite(value) && value > 0))
      throw new InvalidArgumentError({ argument, expected: 'a positive number', received: value });
    return value;
  };
  const count = (argument: string, value: number) => {
    if (!(Number.isInteger(value) && value > 0))
      throw new InvalidArgumentError({ argument, expected: 'a positive integer', received: value });
    return value;
  };
  const epsilon = positive('epsilon', options.epsilon ?? DEFAULT_EPSILON);
  const alphaMax = positive('alphaMax', options.alphaMax ?? 0.1);
  const beta = positive('beta', options.beta ?? 0.9);
  if (epsilon > 1) throw new InvalidArgumentError({ argument: 'epsilon', expected: 'at most 1', received: epsilon });
  if (alphaMax > 1) throw new InvalidArgumentError({ argument: 'alphaMax', expected: 'at most 1', received: alphaMax });
  if (beta > 1) throw new InvalidArgumentError({ argument: 'beta', expected: 'at most 1', received: beta });
  return {
    epsilon,
    steps: count('steps', options.steps ?? 100),
    targets: count('targets', options.targets ?? 9),
    restarts: count('restarts', options.restarts ?? 1),
    alphaMax,
    eta: positive('eta', options.eta ?? 1.05),
    beta,
    training: options.training ?? false,
    rng: toRng(options.rng, 0),
  };
}

/**
 * One FAB-T run on a batch whose rows are all correctly classified: the closest adversarial iterate
 * per row (the clean row where none) and its L∞ distance (1e10 where none).
 */
function fabRun(
  forward: (x: tf.Tensor4D) => tf.Tensor2D,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  target: tf.Tensor1D,
  classes: number,
  o: ResolvedFabOptions,
  seed: number | undefined,
): { adversarial: tf.Tensor4D; distance: tf.Tensor1D } {
  const [m, ...image] = x.shape;
  const size = image.reduce((a, b) => a * b, 1);
  const clean = tf.reshape(x, [m, size]) as tf.Tensor2D; // [m, D]
  const [trueHot, targetHot] = tf.tidy(() => [tf.oneHot(y, classes), tf.oneHot(target, classes)]);
  // f_t − f_y at each row, and its input gradient (one backward for the whole batch)
  const difference = tf.valueAndGrad((input: tf.Tensor) =>
    tf.sum(tf.mul(forward(input as tf.Tensor4D), tf.sub(targetHot, trueHot)), 1),
  );
  let iterate: tf.Tensor2D =
    seed === undefined
      ? clean.clone()
      : tf.tidy(() => {
          // a random point at L∞ distance ε/2 (AutoAttack's FAB start for restarts after the first)
          const t = tf.randomUniform([m, size], -1, 1, 'float32', seed);
          const scale = tf.div(o.epsilon / 2, tf.max(tf.abs(t), 1, true));
          return tf.clipByValue(tf.add(clean, tf.mul(t, scale)), 0, 1) as tf.Tensor2D;
        });
  let best: tf.Tensor2D = clean.clone();
  let distance: tf.Tensor1D = tf.fill([m], 1e10) as tf.Tensor1D;
  for (let step = 0; step < o.steps; step++) {
    const next = tf.tidy(() => {
      const { value, grad } = difference(tf.reshape(iterate, x.shape));
      const w = tf.reshape(grad, [m, size]) as tf.Tensor2D;
      const b = tf.sub(tf.sum(tf.mul(w, iterate), 1), value) as tf.Tensor1D; // the linearised boundary w·z = b
      const projected = linfHyperplaneBoxProjection(
        tf.concat([iterate, clean]),
        tf.concat([w, w]),
        tf.concat([b, b]) as tf.Tensor1D,
      ); // [2m, D]
      const fromIterate = tf.slice(projected, [0, 0], [m, size]);
      const fromClean = tf.slice(projected, [m, 0], [m, size]);
      const lengths = tf.maximum(tf.max(tf.abs(projected), 1, true), 1e-8); // [2m, 1]
      const a1 = tf.slice(lengths, [0, 0], [m, 1]);
      const a2 = tf.slice(lengths, [m, 0], [m, 1]);
      const alpha = tf.clipByValue(tf.div(a1, tf.add(a1, a2)), 0, o.alphaMax); // [m, 1]
      const moved = tf.clipByValue(
        tf.add(
          tf.mul(tf.add(iterate, tf.mul(fromIterate, o.eta)), tf.sub(1, alpha)),
          tf.mul(tf.add(clean, tf.mul(fromClean, o.eta)), alpha),
        ),
        0,
        1,
      ) as tf.Tensor2D;
      const fooled = tf.notEqual(tf.argMax(forward(tf.reshape(moved, x.shape) as tf.Tensor4D), 1), y); // [m]
      const length = tf.max(tf.abs(tf.sub(moved, clean)), 1); // [m]
      const closer = tf.logicalAnd(fooled, tf.less(length, distance));
      const column = (flags: tf.Tensor) => tf.reshape(flags, [m, 1]);
      return {
        best: tf.where(column(closer), moved, best) as tf.Tensor2D,
        distance: tf.where(closer, length, distance) as tf.Tensor1D,
        iterate: tf.where(column(fooled), tf.add(clean, tf.mul(tf.sub(moved, clean), o.beta)), moved) as tf.Tensor2D,
      };
    });
    tf.dispose([iterate, best, distance]);
    ({ iterate, best, distance } = next);
  }
  const adversarial = tf.reshape(best, x.shape) as tf.Tensor4D;
  tf.dispose([clean, trueHot, targetHot, iterate, best]);
  return { adversarial, distance };
}
