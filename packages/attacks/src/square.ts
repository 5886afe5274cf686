import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, toRng, withConstantWeights, type Rng } from '@moco-robust/core';
import { DEFAULT_EPSILON, validateEpsilon } from './attack-settings';
import { checkAttackInputs } from './input-checks';
import { toForward, type ModelLikeForward } from './model-forward';
import { gatherRows, indicesWhere, replaceRows } from './rows';

/** Options of {@link square}; ε in [0, 1] pixel units. */
export interface SquareOptions {
  /** L∞ radius; default 8/255. */
  epsilon?: number;
  /** Query budget per example, the initial query included; default 5,000 (AutoAttack's). */
  queries?: number;
  /** Initial fraction of the image a square covers; default 0.8. */
  pInit?: number;
  /** Stretch the p schedule (written for 10,000 queries) to the budget; default false, as in AutoAttack. */
  rescaleSchedule?: boolean;
  /** Iterations between host reads that drop broken examples from the working set; default 10. */
  checkEvery?: number;
  /** Batch-norm/dropout mode of a `LayersModel`; default false (inference). */
  training?: boolean;
  /** Seed or generator; default seed 0. */
  rng?: number | Rng;
}

/** Result of {@link square}. */
export interface SquareResult {
  /** The best point per example (misclassified where the attack succeeded): [N, H, W, C]; the caller disposes it. */
  adversarial: tf.Tensor4D;
  /** Model queries spent per example (≤ the budget). */
  queries: Int32Array;
  /** 1 where the attack found a misclassified point. */
  success: Uint8Array;
}

/**
 * The fraction of the image a square covers at iteration `iteration` of Square Attack: `pInit` halved at
 * iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 (Andriushchenko et al., ECCV 2020).
 */
export function squareFraction(iteration: number, pInit = 0.8): number {
  const bounds = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  let halvings = 0;
  while (halvings < bounds.length && iteration > bounds[halvings]) halvings++;
  return pInit / 2 ** halvings;
}

/**
 * Square Attack (Andriushchenko et al., ECCV 2020), L∞, score-based: it only reads the model's
 * logits, never its gradients, so gradient masking cannot hide a weakness from it. From vertical
 * stripes of ±ε, each query moves one random square (side shrinking with the p schedule) of each
 * example to a random ±ε colour per channel and keeps it when the margin loss `z_y − max_{i≠y} z_i`
 * falls (or the example becomes misclassified). Untargeted; stops per example at success or at the
 * budget. Defaults: ε 8/255, 5,000 queries, p_init 0.8.
 */
export function square(
  model: ModelLikeForward,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: SquareOptions = {},
): SquareResult {
  return withConstantWeights(() => runSquare(model, x, y, options));
}

function runSquare(model: ModelLikeForward, x: tf.Tensor4D, y: tf.Tensor1D, options: SquareOptions): SquareResult {
  checkAttackInputs(x, { y, model });
  const o = resolveSquareOptions(options);
  const forward = toForward(model, 'model', o.training);
  const [n, h, w, c] = x.shape;
  const margin = (input: tf.Tensor4D, labels: tf.Tensor1D) =>
    tf.tidy(() => {
      const logits = forward(input); // [n, C]
      const trueHot = tf.oneHot(labels, logits.shape[1]);
      const trueLogit = tf.sum(tf.mul(logits, trueHot), 1);
      const otherBest = tf.max(tf.sub(logits, tf.mul(trueHot, 1e30)), 1);
      return tf.sub(trueLogit, otherBest) as tf.Tensor1D; // [n]: ≤ 0 means misclassified
    });
  // the initial query: vertical stripes of ±ε
  let best = tf.tidy(() => {
    const stripes = tf.sign(tf.sub(tf.randomUniform([n, 1, w, c], 0, 1, 'float32', o.rng.tfSeed()), 0.5));
    return tf.clipByValue(tf.add(x, tf.mul(stripes, o.epsilon)), 0, 1) as tf.Tensor4D;
  });
  const initial = margin(best, y);
  const marginAll = initial.dataSync().slice();
  initial.dispose();
  const queries = new Int32Array(n).fill(1);
  const labels = y.dataSync();
  const rowsH = tf.tidy(() => tf.reshape(tf.range(0, h, 1, 'float32'), [1, h, 1, 1]));
  const colsW = tf.tidy(() => tf.reshape(tf.range(0, w, 1, 'float32'), [1, 1, w, 1]));

  let iteration = 0;
  while (iteration < o.queries - 1) {
    const active = indicesWhere(Array.from(marginAll, (m) => (m > 0 ? 1 : 0)));
    if (active.length === 0) break;
    const xs = gatherRows(x, active);
    const ys = tf.tensor1d(
      active.map((i) => labels[i]),
      'int32',
    );
    let xBest = gatherRows(best, active);
    let marginBest = tf.tensor1d(active.map((i) => marginAll[i]));
    let live = tf.ones([active.length]) as tf.Tensor1D; // 1 until this example succeeds
    let used = tf.zeros([active.length]) as tf.Tensor1D;
    const stop = Math.min(iteration + o.checkEvery, o.queries - 1);
    for (; iteration < stop; iteration++) {
      const size = squareSide(iteration, o, h, w);
      const seed = o.rng.tfSeed();
      const next = tf.tidy(() => {
        const k = active.length;
        const top = tf.floor(tf.mul(tf.randomUniform([k, 1, 1, 1], 0, 1, 'float32', seed), h - size + 1));
        const left = tf.floor(tf.mul(tf.randomUniform([k, 1, 1, 1], 0, 1, 'float32', seed + 1), w - size + 1));
        const inRows = tf.logicalAnd(tf.greaterEqual(rowsH, top), tf.less(rowsH, tf.add(top, size))); // [k, h, 1, 1]
        const inCols = tf.logicalAnd(tf.greaterEqual(colsW, left), tf.less(colsW, tf.add(left, size))); // [k, 1, w, 1]
        const window = tf.cast(tf.logicalAnd(inRows, inCols), 'float32'); // [k, h, w, 1]
        const colour = tf.sign(tf.sub(tf.randomUniform([k, 1, 1, c], 0, 1, 'float32', seed + 2), 0.5)); // [k, 1, 1, c]
        const moved = tf.add(xBest, tf.mul(window, tf.mul(colour, 2 * o.epsilon)));
        const candidate = tf.clipByValue(
          tf.minimum(tf.maximum(moved, tf.sub(xs, o.epsilon)), tf.add(xs, o.epsilon)),
          0,
          1,
        ) as tf.Tensor4D;
        const candidateMargin = margin(candidate, ys);
        const accept = tf.logicalAnd(
          tf.cast(live, 'bool'),
          tf.logicalOr(tf.less(candidateMargin, marginBest), tf.lessEqual(candidateMargin, 0)),
        ); // [k]
        const nextMargin = tf.where(accept, candidateMargin, marginBest) as tf.Tensor1D;
        return {
          xBest: tf.where(tf.reshape(accept, [-1, 1, 1, 1]), candidate, xBest) as tf.Tensor4D,
          marginBest: nextMargin,
          used: tf.add(used, live) as tf.Tensor1D,
          live: tf.mul(live, tf.cast(tf.greater(nextMargin, 0), 'float32')) as tf.Tensor1D,
        };
      });
      tf.dispose([xBest, marginBest, used, live]);
      ({ xBest, marginBest, used, live } = next);
    }
    // one host read per `checkEvery` iterations: write the working set back, drop the broken examples
    const margins = marginBest.dataSync();
    const spent = used.dataSync();
    active.forEach((i, j) => {
      marginAll[i] = margins[j];
      queries[i] += spent[j];
    });
    const merged = replaceRows(best, active, xBest);
    tf.dispose([best, xs, ys, xBest, marginBest, live, used]);
    best = merged;
  }
  tf.dispose([rowsH, colsW]);
  return { adversarial: best, queries, success: Uint8Array.from(marginAll, (m) => (m <= 0 ? 1 : 0)) };
}

/** Side of the square at `iteration`: √(p·H·W) rounded, between 1 and min(H, W). */
function squareSide(iteration: number, o: ResolvedSquare, h: number, w: number): number {
  const at = o.rescaleSchedule ? Math.floor((iteration / o.queries) * 10000) : iteration;
  const p = squareFraction(at, o.pInit);
  return Math.min(Math.max(Math.round(Math.sqrt(p * h * w)), 1), Math.min(h, w));
}

type ResolvedSquare = Required<Omit<SquareOptions, 'rng'>> & { rng: Rng };

function resolveSquareOptions(options: SquareOptions): ResolvedSquare {
  const epsilon = validateEpsilon(options.epsilon ?? DEFAULT_EPSILON);
  const queries = options.queries ?? 5000;
  if (!(Number.isInteger(queries) && queries >= 1))
    throw new InvalidArgumentError({ argument: 'queries', expected: 'an integer ≥ 1', received: queries });
  const pInit = options.pInit ?? 0.8;
  if (!(pInit > 0 && pInit <= 1))
    throw new InvalidArgumentError({ argument: 'pInit', expected: 'a number in (0, 1]', received: pInit });
  const checkEvery = options.checkEvery ?? 10;
  if (!(Number.isInteger(checkEvery) && checkEvery >= 1))
    throw new InvalidArgumentError({ argument: 'checkEvery', expected: 'an integer ≥ 1', received: checkEvery });
  return {
    epsilon,
    queries,
    pInit,
    checkEvery,
    rescaleSchedule: options.rescaleSchedule ?? false,
    training: options.training ?? false,
    rng: toRng(options.rng, 0),
  };
}
