import * as tf from '@tensorflow/tfjs-core';
import { assertGradientsRegistered, InvalidArgumentError, toRng, type Rng } from '@moco-robust/core';
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

/**
 * The L∞-smallest step `d` that puts each row of `points` on its hyperplane `w·z = b` while
 * staying in the box [0, 1]ᴰ (rows: `points`, `w` [n, D], `b` [n]); where no point of the box lies
 * on the hyperplane, the step to the box corner closest to it. Exact: the steps `d_i = ±min(λ, p_i)`
 * (`p_i` the room to the box edge in the helpful direction) are sorted once and λ solved on the
 * piece of the piecewise-linear `w·d(λ)` that reaches `b` (Croce & Hein, ICML 2020, FAB).
 */
export function linfHyperplaneBoxProjection(points: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, size] = points.shape;
    // orient each hyperplane so that the row has to decrease w·z: w·t − b ≥ 0
    const above = tf.greaterEqual(tf.sub(tf.sum(tf.mul(w, points), 1), b), 0);
    const orientation = tf.sub(tf.mul(tf.cast(above, 'float32'), 2), 1); // ±1: [n]
    const wo = tf.mul(w, tf.reshape(orientation, [n, 1])); // [n, D]
    const needed = tf.sub(tf.mul(b, orientation), tf.sum(tf.mul(wo, points), 1)); // change of w·z wanted, ≤ 0: [n]
    const up = tf.cast(tf.less(wo, 0), 'float32'); // 1 where the coordinate moves up (towards 1): [n, D]
    const direction = tf.sub(tf.mul(up, 2), 1); // ±1
    const room = tf.add(up, tf.mul(points, tf.neg(direction))); // distance to the edge it moves to: [n, D]
    const weight = tf.abs(wo);
    // by decreasing room: with λ between the k-th and (k+1)-th room, w·d(λ) = S_k − Σ_all|w|·room − λ·W_k
    const sorted = tf.topk(room, size);
    const weightSorted = tf.gather(weight, sorted.indices, 1, 1); // [n, D]
    const weightSum = tf.cumsum(weightSorted, 1); // W_k: [n, D]
    const weightedRoom = tf.cumsum(tf.mul(weightSorted, sorted.values), 1); // S_k: [n, D]
    const total = tf.slice(weightedRoom, [0, size - 1], [n, 1]); // Σ |w|·room: [n, 1]
    const atKnots = tf.sub(tf.sub(weightedRoom, total), tf.mul(weightSum, sorted.values)); // w·d(room_k), rising in k
    const reached = tf.sum(tf.cast(tf.lessEqual(atKnots, tf.reshape(needed, [n, 1])), 'int32'), 1); // [n]
    const piece = tf.reshape(tf.cast(tf.clipByValue(tf.sub(reached, 1), 0, size - 1), 'int32'), [n, 1]);
    const pick = (t: tf.Tensor) => tf.reshape(tf.gather(t, piece, 1, 1), [n]); // t at each row's piece: [n]
    const lambda = tf.relu(
      tf.div(tf.sub(tf.sub(pick(weightedRoom), tf.reshape(total, [n])), needed), tf.maximum(pick(weightSum), 1e-30)),
    ); // [n]
    const step = tf.mul(direction, tf.minimum(room, tf.reshape(lambda, [n, 1])));
    return tf.mul(step, tf.cast(tf.notEqual(wo, 0), 'float32')) as tf.Tensor2D;
  });
}

/**
 * FAB-T, the targeted Fast Adaptive Boundary attack (Croce & Hein, ICML 2020) for L∞, as in AutoAttack's
 * `standard` version: for each of the `targets` classes with the highest clean logits after the top one,
 * run only on the examples no earlier target has broken within ε, each iteration linearises `f_t − f_y` at
 * the iterate, projects both the iterate and the clean image onto that hyperplane within [0, 1]
 * ({@link linfHyperplaneBoxProjection}), and steps to a mix of the two (weight of the clean image's
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
  checkAttackInputs(x, { y, model });
  assertGradientsRegistered('fabTargeted');
  const o = resolveFabOptions(options);
  const forward = toForward(model, 'model', o.training);
  const n = x.shape[0];
  const { order, robust } = tf.tidy(() => {
    const logits = forward(x); // [N, C]
    return {
      order: tf.topk(logits, logits.shape[1]).indices, // classes by decreasing clean logit: [N, C]
      robust: tf.equal(tf.argMax(logits, 1), y),
    };
  });
  const classes = order.shape[1];
  const ranks = order.arraySync() as number[][];
  const still = robust.dataSync().slice();
  tf.dispose([order, robust]);
  const labels = y.dataSync();
  const distances = new Float32Array(n).fill(Number.POSITIVE_INFINITY);
  const success = new Uint8Array(n);
  const radius = Math.fround(o.epsilon);
  let adversarial = x.clone();
  for (let rank = 1; rank <= Math.min(o.targets, classes - 1); rank++) {
    for (let restart = 0; restart < o.restarts; restart++) {
      const indices = indicesWhere(still);
      if (indices.length === 0) break;
      const xs = gatherRows(x, indices);
      const ys = tf.tensor1d(
        indices.map((i) => labels[i]),
        'int32',
      );
      const target = tf.tensor1d(
        indices.map((i) => ranks[i][rank]),
        'int32',
      );
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
  const epsilon = positive('epsilon', options.epsilon ?? 8 / 255);
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
