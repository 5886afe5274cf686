import * as tf from '@tensorflow/tfjs-core';
import { assertGradientsRegistered, InvalidArgumentError, withConstantWeights } from '@moco-robust/core';
import { checkImages } from './input-checks';
import { resolveAttackOptions, type AttackOptions } from './attack-options';
import { ascentDirection, project, randomStart } from './projection';

/** A differentiable objective to maximise: adversarial images [N, H, W, C] → per-example losses [N]. */
export type PerExampleLoss = (xAdv: tf.Tensor4D) => tf.Tensor1D;

/**
 * Projected gradient ascent (Madry et al., ICLR 2018) on any per-example objective: from `x` (or a
 * uniform random point of the ε-ball), `steps` times `x ← Π_{ε,[0,1]}(x + stepSize·sign(∇ Σ loss))`
 * (L∞; L2 uses normalised gradients and ball projection). With `restarts` > 1 the worst case per
 * example (highest final loss) is kept; `earlyStop` freezes examples that already succeed. It
 * maximises — to run a targeted attack, negate the loss. Defaults: ε 8/255, step 2/255, 10 steps,
 * random start, 1 restart, L∞. Returns a new tensor; `x` is not modified.
 */
export function pgd(loss: PerExampleLoss, x: tf.Tensor4D, options: AttackOptions = {}): tf.Tensor4D {
  const { adversarial, loss: finalLoss } = withConstantWeights(() => runPgd(loss, x, options, false));
  finalLoss?.dispose();
  return adversarial;
}

/** {@link pgd} that also returns the per-example loss [N] at the returned point (callers dispose both). */
export function pgdWithLoss(
  loss: PerExampleLoss,
  x: tf.Tensor4D,
  options: AttackOptions = {},
): { adversarial: tf.Tensor4D; loss: tf.Tensor1D } {
  const result = withConstantWeights(() => runPgd(loss, x, options, true));
  return { adversarial: result.adversarial, loss: result.loss! };
}

function runPgd(
  loss: PerExampleLoss,
  x: tf.Tensor4D,
  options: AttackOptions,
  wantLoss: boolean,
): { adversarial: tf.Tensor4D; loss?: tf.Tensor1D } {
  if (typeof loss !== 'function')
    throw new InvalidArgumentError({
      argument: 'loss',
      expected: 'a function (xAdv) => per-example losses [N]',
      received: loss,
    });
  checkImages(x);
  assertGradientsRegistered('pgd');
  const o = resolveAttackOptions(options);
  const lossOf = (xAdv: tf.Tensor4D) => {
    const value = loss(xAdv);
    if (value.rank !== 1 || value.shape[0] !== x.shape[0]) {
      throw new InvalidArgumentError({
        argument: 'loss',
        expected: `a function returning per-example losses [${x.shape[0]}]`,
        received: value,
      });
    }
    return value;
  };
  const gradientOf = tf.grad((xAdv: tf.Tensor) => tf.sum(lossOf(xAdv as tf.Tensor4D)));

  let best: tf.Tensor4D | undefined;
  let bestLoss: tf.Tensor1D | undefined;
  for (let restart = 0; restart < o.restarts; restart++) {
    let xAdv = o.randomStart && o.epsilon > 0 ? randomStart(x, o.epsilon, o.norm, o.rng.tfSeed()) : tf.clone(x);
    let active: tf.Tensor1D | undefined = o.earlyStop ? activeMask(o.earlyStop, xAdv) : undefined;
    for (let step = 0; step < o.steps && o.epsilon > 0; step++) {
      const next = tf.tidy(() => {
        const gradient = gradientOf(xAdv) as tf.Tensor4D; // [N, H, W, C]
        let update = tf.mul(ascentDirection(gradient, o.norm), o.stepSize) as tf.Tensor4D;
        if (active) update = tf.mul(update, tf.reshape(active, [-1, 1, 1, 1]));
        return project(tf.add(xAdv, update) as tf.Tensor4D, x, o.epsilon, o.norm);
      });
      xAdv.dispose();
      xAdv = next;
      if (o.earlyStop && active) {
        const previous = active;
        const nextActive = tf.tidy(() => tf.mul(previous, activeMask(o.earlyStop!, xAdv)) as tf.Tensor1D);
        active.dispose();
        active = nextActive;
        if ((readScalar(tf.sum(active)) as number) === 0) break;
      }
    }
    active?.dispose();
    if (o.restarts === 1 && !wantLoss) return { adversarial: xAdv };
    const finalLoss = tf.tidy(() => lossOf(xAdv));
    if (!best || !bestLoss) {
      best = xAdv;
      bestLoss = finalLoss;
      continue;
    }
    const merged = tf.tidy(() => {
      const better = tf.greater(finalLoss, bestLoss!); // [N]
      return {
        x: tf.where(tf.reshape(better, [-1, 1, 1, 1]), xAdv, best!) as tf.Tensor4D,
        loss: tf.where(better, finalLoss, bestLoss!) as tf.Tensor1D,
      };
    });
    tf.dispose([best, bestLoss, xAdv, finalLoss]);
    best = merged.x;
    bestLoss = merged.loss;
  }
  return { adversarial: best!, loss: bestLoss! };
}

/** 1 for examples still to attack, 0 for those that already succeed: float [N]. */
function activeMask(earlyStop: NonNullable<AttackOptions['earlyStop']>, xAdv: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.sub(1, tf.cast(earlyStop(xAdv), 'float32')) as tf.Tensor1D);
}

/** Reads a scalar tensor synchronously and disposes it (only used for early stopping). */
function readScalar(t: tf.Tensor): number {
  const value = t.dataSync()[0];
  t.dispose();
  return value;
}
