import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors/errors';
import type { TensorArchiveEntry } from '../checkpoint/tensor-archive';

/** Options of {@link Sgd}, with PyTorch's `torch.optim.SGD` semantics. */
export interface SgdOptions {
  /** Learning rate; change it per step with {@link Sgd.setLearningRate} or the `lr` argument of `step`. */
  learningRate: number;
  /** Momentum factor; default 0.9 (the paper's and MoCo's). */
  momentum?: number;
  /**
   * Coupled L2 weight decay added to the gradient (`g + wd·θ`); default 0 (the paper: 5e-4 pre-training, 3e-4
   * fine-tuning).
   */
  weightDecay?: number;
  /** Nesterov momentum; default false. */
  nesterov?: boolean;
  /**
   * Variables (by name) excluded from weight decay, e.g. batch-norm parameters; default: none excluded (as PyTorch
   * MoCo).
   */
  excludeFromWeightDecay?: (variableName: string) => boolean;
}

/**
 * SGD with momentum and coupled weight decay, exactly PyTorch's update:
 * `g ← ∇ + wd·θ; b ← μ·b + g (b = g on the first step); θ ← θ − lr·(nesterov ? g + μ·b : b)`.
 * Momentum buffers are kept per variable and checkpointed with {@link Sgd.state}.
 */
export class Sgd {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private lr: number;
  private buffers = new Map<tf.Variable, tf.Variable>();
  private readonly exclude: (name: string) => boolean;
  private iterations = 0;

  constructor(options: SgdOptions) {
    this.lr = checkNonNegative('learningRate', options.learningRate);
    this.momentum = checkNonNegative('momentum', options.momentum ?? 0.9);
    this.weightDecay = checkNonNegative('weightDecay', options.weightDecay ?? 0);
    this.nesterov = options.nesterov ?? false;
    this.exclude = options.excludeFromWeightDecay ?? (() => false);
  }

  /** The current learning rate. */
  get learningRate(): number {
    return this.lr;
  }

  /** Number of `step` calls so far. */
  get stepCount(): number {
    return this.iterations;
  }

  /** Sets the learning rate for the next steps (from an {@link LrSchedule}). */
  setLearningRate(lr: number): void {
    this.lr = checkNonNegative('learningRate', lr);
  }

  /**
   * Applies one update to `variables` from `gradients` (by variable name, as returned by
   * `tf.variableGrads`, or in the same order as `variables`). Does not dispose the gradients.
   */
  step(variables: tf.Variable[], gradients: tf.NamedTensorMap | tf.Tensor[]): void {
    const lr = this.lr;
    const first = this.iterations === 0;
    tf.tidy(() => {
      variables.forEach((variable, i) => {
        const gradient = Array.isArray(gradients) ? gradients[i] : gradients[variable.name];
        if (!gradient) return; // a variable the loss does not depend on
        let g: tf.Tensor = gradient;
        if (this.weightDecay > 0 && !this.exclude(variable.name)) g = tf.add(g, tf.mul(variable, this.weightDecay));
        let direction = g;
        if (this.momentum > 0) {
          let buffer = this.buffers.get(variable);
          if (!buffer || first) {
            buffer?.dispose();
            buffer = tf.variable(tf.zerosLike(variable), false);
            this.buffers.set(variable, buffer);
            buffer.assign(g);
          } else {
            buffer.assign(tf.add(tf.mul(buffer, this.momentum), g));
          }
          direction = this.nesterov ? tf.add(g, tf.mul(buffer, this.momentum)) : buffer;
        }
        variable.assign(tf.sub(variable, tf.mul(direction, lr)));
      });
    });
    this.iterations++;
  }

  /** Momentum buffers of `variables` (in that order) for a checkpoint; reads them back to the host. */
  state(variables: tf.Variable[]): { iterations: number; learningRate: number; buffers: TensorArchiveEntry[] } {
    const buffers = variables.map((v, i) => {
      const b = this.buffers.get(v);
      return {
        name: `${i}:${v.name}`,
        shape: v.shape,
        dtype: 'float32' as const,
        data: b ? (b.dataSync() as Float32Array).slice() : new Float32Array(v.size),
      };
    });
    return { iterations: this.iterations, learningRate: this.lr, buffers };
  }

  /** Restores buffers saved by {@link Sgd.state} for the same variables, in the same order (shapes checked). */
  loadState(
    variables: tf.Variable[],
    state: { iterations: number; learningRate: number; buffers: TensorArchiveEntry[] },
  ): void {
    if (state.buffers.length !== variables.length) {
      throw new InvalidArgumentError({
        argument: 'state.buffers',
        expected: `${variables.length} momentum buffers`,
        received: state.buffers.length,
      });
    }
    variables.forEach((v, i) => {
      const saved = state.buffers[i];
      if (saved.shape.join(',') !== v.shape.join(',')) {
        throw new InvalidArgumentError({
          argument: `state.buffers[${i}]`,
          expected: `shape [${v.shape}] for ${v.name}`,
          received: `shape [${saved.shape}]`,
        });
      }
      this.buffers.get(v)?.dispose();
      this.buffers.set(v, tf.variable(tf.tensor(saved.data as Float32Array, v.shape, 'float32'), false));
    });
    this.iterations = state.iterations;
    this.lr = state.learningRate;
  }

  /** Frees the momentum buffers. */
  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}

function checkNonNegative(argument: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0))
    throw new InvalidArgumentError({ argument, expected: 'a finite number ≥ 0', received: value });
  return value;
}
