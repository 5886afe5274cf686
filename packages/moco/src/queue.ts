import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, toRng, type Rng } from '@moco-robust/core';

/** Options of {@link Queue}. */
export interface QueueOptions {
  /** Number of negative keys K; default 4096 (MoCo's CIFAR-10 demo). */
  size?: number;
  /** Key width d; default 128. */
  dim?: number;
  /**
   * Keys enqueued per step, when known up front (checked now); K must be a multiple of it (MoCo drops the last partial
   * batch).
   */
  batchSize?: number;
  /** Seed or generator for the random initial keys. */
  rng?: number | Rng;
}

/**
 * MoCo's dictionary of negatives (He et al., CVPR 2020): K L2-normalised keys with a pointer;
 * `enqueue` overwrites the oldest `batchSize` keys. Initialised with random unit vectors.
 */
export class Queue {
  readonly size: number;
  readonly dim: number;
  private keysVariable: tf.Variable;
  private cursor = 0;

  constructor(options: QueueOptions) {
    this.size = options.size ?? 4096;
    this.dim = options.dim ?? 128;
    for (const [argument, value] of [
      ['size', this.size],
      ['dim', this.dim],
    ] as const) {
      if (!(Number.isInteger(value) && value > 0))
        throw new InvalidArgumentError({ argument, expected: 'a positive integer', received: value });
    }
    if (options.batchSize !== undefined) this.checkBatchSize(options.batchSize, 'size');
    const seed = toRng(options.rng).tfSeed();
    this.keysVariable = tf.tidy(() => {
      const r = tf.randomNormal([this.size, this.dim], 0, 1, 'float32', seed);
      return tf.variable(tf.div(r, tf.norm(r, 'euclidean', 1, true)), false);
    });
  }

  /** The keys [K, d] (a variable owned by the queue: do not dispose). */
  get keys(): tf.Tensor2D {
    return this.keysVariable as tf.Tensor as tf.Tensor2D;
  }

  /** Index where the next batch is written. */
  get pointer(): number {
    return this.cursor;
  }

  /**
   * Checks that batches of `batchSize` keys tile the queue exactly: K must be a multiple of the batch
   * (throws an {@link InvalidArgumentError} naming `argument` and suggesting a K otherwise).
   */
  checkBatchSize(batchSize: number, argument = 'batchSize'): void {
    if (!(Number.isInteger(batchSize) && batchSize > 0))
      throw new InvalidArgumentError({ argument: 'batchSize', expected: 'a positive integer', received: batchSize });
    if (this.size % batchSize !== 0) {
      throw new InvalidArgumentError({
        argument,
        expected:
          `a queue size K that is a multiple of the batch size ${batchSize} (the ` +
          `queue is overwritten one batch at a time; drop the last partial batch)`,
        received: this.size,
        hint: `Try K = ${Math.max(1, Math.round(this.size / batchSize)) * batchSize}.`,
      });
    }
  }

  /** Replaces the oldest B keys with `keys` [B, d] (normalised here) and advances the pointer, wrapping at K. */
  enqueue(keys: tf.Tensor2D): void {
    if (keys.rank !== 2 || keys.shape[1] !== this.dim) {
      throw new InvalidArgumentError({ argument: 'keys', expected: `a tensor [B, ${this.dim}]`, received: keys });
    }
    this.checkBatchSize(keys.shape[0], 'keys');
    const batchSize = keys.shape[0];
    const start = this.cursor;
    if (start % batchSize !== 0) {
      throw new InvalidArgumentError({
        argument: 'keys',
        expected: `batches of one size: the pointer ${start} is not a multiple of ${batchSize}`,
        received: keys,
      });
    }
    tf.tidy(() => {
      const normalised = tf.div(keys, tf.maximum(tf.norm(keys, 'euclidean', 1, true), 1e-12));
      const parts: tf.Tensor[] = [];
      if (start > 0) parts.push(tf.slice(this.keysVariable, [0, 0], [start, this.dim]));
      parts.push(normalised);
      const end = start + batchSize;
      if (end < this.size) parts.push(tf.slice(this.keysVariable, [end, 0], [this.size - end, this.dim]));
      this.keysVariable.assign(tf.concat(parts, 0));
    });
    this.cursor = (start + batchSize) % this.size;
  }

  /** Saved state: keys (read back to the host) and pointer. */
  state(): { pointer: number; keys: Float32Array } {
    return { pointer: this.cursor, keys: (this.keysVariable.dataSync() as Float32Array).slice() };
  }

  /** Restores {@link Queue.state} exactly. */
  loadState(state: { pointer: number; keys: Float32Array }): void {
    if (state.keys.length !== this.size * this.dim) {
      throw new InvalidArgumentError({
        argument: 'state.keys',
        expected: `${this.size * this.dim} values (${this.size}×${this.dim})`,
        received: state.keys.length,
      });
    }
    if (!(Number.isInteger(state.pointer) && state.pointer >= 0 && state.pointer < this.size)) {
      throw new InvalidArgumentError({
        argument: 'state.pointer',
        expected: `an integer in [0, ${this.size})`,
        received: state.pointer,
      });
    }
    tf.tidy(() => this.keysVariable.assign(tf.tensor2d(state.keys, [this.size, this.dim])));
    this.cursor = state.pointer;
  }

  /** Frees the keys. */
  dispose(): void {
    this.keysVariable.dispose();
  }
}
