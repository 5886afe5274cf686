import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@moco-robust/core';

/**
 * Difference-of-Logits-Ratio loss (Croce & Hein, ICML 2020), per example, to maximise:
 * `−(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 1e-12)` where `z_π1 ≥ z_π2 ≥ …` are the sorted logits.
 * It is invariant to shifting and rescaling the logits, so it cannot be fooled by logit scale.
 * `logits` [N, C] with C ≥ 3, `y` int32 [N]; returns [N]. Differentiable (analytic gradient).
 */
export function dlrLoss(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  checkClasses(logits, 3, 'dlrLoss');
  return ratioLoss(logits, y, undefined);
}

/**
 * Targeted DLR loss (Croce & Hein, ICML 2020), per example, to maximise:
 * `−(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12)`; APGD-T ascends it to push the logit of the
 * target `t` above the true class `y`. `logits` [N, C] with C ≥ 4, `y` and `target` int32 [N]; returns [N].
 */
export function targetedDlrLoss(logits: tf.Tensor2D, y: tf.Tensor1D, target: tf.Tensor1D): tf.Tensor1D {
  checkClasses(logits, 4, 'targetedDlrLoss');
  return ratioLoss(logits, y, target);
}

function checkClasses(logits: tf.Tensor2D, minimum: number, name: string): void {
  if (logits?.rank !== 2 || logits.shape[1] < minimum) {
    throw new InvalidArgumentError({
      argument: 'logits',
      expected: `${name}: logits [N, C] with C ≥ ${minimum} classes`,
      received: logits,
    });
  }
}

/**
 * Both DLR variants as one custom-gradient op over the logits: numerator `z_y − z_o` (o = the best
 * other class, or the target), denominator `z_π1 − z_π3` (untargeted) or `z_π1 − (z_π3 + z_π4)/2`.
 * The sort indices carry no gradient, so the op supplies its analytic one (tfjs has no TopK gradient).
 */
function ratioLoss(logits: tf.Tensor2D, y: tf.Tensor1D, target: tf.Tensor1D | undefined): tf.Tensor1D {
  const classes = logits.shape[1];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [z, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const { value, gradient } = tf.tidy(() => forwardAndGradient(z));
    save([gradient]);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.reshape(dy, [-1, 1]), saved[0]) };
  });
  const forwardAndGradient = (z: tf.Tensor) => {
    const top = tf.topk(z, target ? 4 : 3); // values, indices: [N, 3 | 4]
    const pick = (k: number) => tf.oneHot(tf.squeeze(tf.slice(top.indices, [0, k], [-1, 1]), [1]), classes); // [N, C]
    const trueHot = tf.oneHot(tf.cast(y, 'int32'), classes); // [N, C]
    let otherHot: tf.Tensor;
    if (target) otherHot = tf.oneHot(tf.cast(target, 'int32'), classes);
    else {
      // best class other than y: the top one unless it is y, then the second
      const topIsTrue = tf.sum(tf.mul(pick(0), trueHot), 1, true); // [N, 1]
      otherHot = tf.add(tf.mul(pick(1), topIsTrue), tf.mul(pick(0), tf.sub(1, topIsTrue)));
    }
    const lowHot = target ? tf.mul(tf.add(pick(2), pick(3)), 0.5) : pick(2); // [N, C]
    const numeratorHot = tf.sub(trueHot, otherHot);
    const denominatorHot = tf.sub(pick(0), lowHot);
    const numerator = tf.sum(tf.mul(z, numeratorHot), 1); // [N]
    const denominator = tf.add(tf.sum(tf.mul(z, denominatorHot), 1), 1e-12); // [N]
    const value = tf.neg(tf.div(numerator, denominator));
    // d/dz [−n/d] = −∇n/d + n ∇d / d²
    const dn = tf.reshape(denominator, [-1, 1]);
    const gradient = tf.add(
      tf.neg(tf.div(numeratorHot, dn)),
      tf.mul(tf.reshape(tf.div(numerator, tf.square(denominator)), [-1, 1]), denominatorHot),
    ); // [N, C]
    return { value, gradient };
  };
  return op(logits) as tf.Tensor1D;
}
