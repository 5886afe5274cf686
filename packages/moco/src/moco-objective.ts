import * as tf from '@tensorflow/tfjs-core';
import { toForward, type MocoObjective, type ModelLikeForward } from '@moco-robust/attacks';
import { assertImages, InvalidArgumentError, l2Normalize } from '@moco-robust/core';
import { Queue } from './queue';

/** Options of {@link mocoObjective}. */
export interface MocoObjectiveOptions {
  /** The query encoder (a tfjs model, or a function images → embeddings [N, d]), e.g. a pre-trained encoder. */
  encoder: ModelLikeForward;
  /** The momentum (key) encoder; default `encoder` itself (the attack then pushes x away from its own embedding). */
  keyEncoder?: ModelLikeForward;
  /**
   * Negatives: an existing {@link Queue} or L2-normalised embeddings [K, d] (used as is), or images [K, H, W, 3] in
   * [0, 1] encoded by the key encoder.
   */
  negatives: Queue | tf.Tensor2D | tf.Tensor4D;
  /** InfoNCE temperature; default 0.2 (MoCo-v2; 0.1 for v1). */
  temperature?: number;
  /** Images per forward when encoding `negatives`; default 256. */
  batchSize?: number;
}

/**
 * What `mocoPgd` / `mocoFgsm` need to attack the images `x` label-free, built from an encoder: the keys of `x` from the
 * key encoder (inference mode, computed once), and the queue — an existing one or embeddings as given, or the
 * L2-normalised embeddings of `negatives` images. `dispose()` frees what this built (never negatives passed in).
 */
export function mocoObjective(x: tf.Tensor4D, options: MocoObjectiveOptions): MocoObjective & { dispose(): void } {
  assertImages(x, 'x', { channels: 3 });
  const keyForward = toForward(options.keyEncoder ?? options.encoder, 'keyEncoder', false);
  const encode = (images: tf.Tensor4D) => tf.tidy(() => l2Normalize(keyForward(images)));
  const keys = encode(x); // [N, d]
  let queue: tf.Tensor2D;
  let ownsQueue = false;
  if (options.negatives instanceof Queue) {
    queue = options.negatives.keys;
  } else if (options.negatives?.rank === 2) {
    queue = options.negatives as tf.Tensor2D;
  } else {
    const images = options.negatives as tf.Tensor4D;
    assertImages(images, 'negatives', { channels: 3 });
    const batchSize = options.batchSize ?? 256;
    const parts: tf.Tensor2D[] = [];
    for (let start = 0; start < images.shape[0]; start += batchSize) {
      const size = Math.min(batchSize, images.shape[0] - start);
      const slice = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
      parts.push(encode(slice));
      slice.dispose();
    }
    queue = parts.length === 1 ? parts[0] : (tf.concat(parts) as tf.Tensor2D); // [K, d]
    if (parts.length > 1) tf.dispose(parts);
    ownsQueue = true;
  }
  if (queue.shape[1] !== keys.shape[1]) {
    const received = `negatives of width ${queue.shape[1]}`;
    tf.dispose(ownsQueue ? [keys, queue] : [keys]);
    throw new InvalidArgumentError({
      argument: 'negatives',
      expected: `embeddings as wide as the encoder's (${keys.shape[1]})`,
      received,
    });
  }
  return {
    query: options.encoder,
    keys,
    queue,
    temperature: options.temperature ?? 0.2,
    training: false,
    dispose: () => tf.dispose(ownsQueue ? [keys, queue] : [keys]),
  };
}
