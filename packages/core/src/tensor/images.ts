import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors/errors';

/** Options of {@link assertImages}. */
export interface AssertImagesOptions {
  /** Required height and width (e.g. `[32, 32]`); any size when omitted. */
  size?: [number, number];
  /** Required channel count; default 3. */
  channels?: number;
  /** Also read min/max back (one small host sync) and require values in [0, 1]. Default false. */
  checkRange?: boolean;
}

/**
 * Checks the image convention — NHWC `float32`, values in [0, 1] — and throws an
 * {@link InvalidArgumentError} naming `argument` otherwise.
 */
export function assertImages(
  x: unknown,
  argument: string,
  options: AssertImagesOptions = {},
): asserts x is tf.Tensor4D {
  const channels = options.channels ?? 3;
  const expected =
    `a float32 tensor [N, H, W, ${channels}] of pixels in [0, ` +
    `1]${options.size ? ` with H×W = ${options.size.join('×')}` : ''}`;
  if (!(x instanceof tf.Tensor) && !isTensorLike(x))
    throw new InvalidArgumentError({ argument, expected, received: x });
  const t = x as tf.Tensor;
  if (t.rank !== 4 || t.shape[3] !== channels || t.dtype !== 'float32')
    throw new InvalidArgumentError({ argument, expected, received: t });
  if (options.size && (t.shape[1] !== options.size[0] || t.shape[2] !== options.size[1])) {
    throw new InvalidArgumentError({ argument, expected, received: t });
  }
  if (options.checkRange && t.size > 0) {
    const [min, max] = tf.tidy(() => tf.stack([tf.min(t), tf.max(t)])).dataSync() as Float32Array;
    if (min < 0 || max > 1) {
      throw new InvalidArgumentError({
        argument,
        expected,
        received: t,
        hint:
          `Values range over [${min}, ${max}]; moco-robust models ` +
          `normalise inside the model, so pass raw pixels divided by 255.`,
      });
    }
  }
}

/** Checks labels: an int32 tensor [N] (N given when known) with classes in [0, numClasses). */
export function assertLabels(
  y: unknown,
  argument: string,
  options: { count?: number; numClasses?: number } = {},
): asserts y is tf.Tensor1D {
  const expected = `an int32 tensor [${options.count ?? 'N'}] of class indices`;
  if (!isTensorLike(y)) throw new InvalidArgumentError({ argument, expected, received: y });
  const t = y as tf.Tensor;
  if (t.rank !== 1 || t.dtype !== 'int32' || (options.count !== undefined && t.shape[0] !== options.count)) {
    throw new InvalidArgumentError({ argument, expected, received: t });
  }
}

function isTensorLike(x: unknown): boolean {
  return (
    typeof x === 'object' &&
    x !== null &&
    Array.isArray((x as tf.Tensor).shape) &&
    typeof (x as tf.Tensor).dtype === 'string' &&
    typeof (x as tf.Tensor).dataId === 'object'
  );
}

/** Converts CIFAR-style uint8 HWC pixels to the image convention: float32 NHWC in [0, 1]. */
export function imagesFromUint8(pixels: Uint8Array, count: number, height = 32, width = 32, channels = 3): tf.Tensor4D {
  const expectedLength = count * height * width * channels;
  if (pixels.length !== expectedLength) {
    throw new InvalidArgumentError({
      argument: 'pixels',
      expected: `a Uint8Array of length ${expectedLength} (${count}×${height}×${width}×${channels})`,
      received: pixels.length,
    });
  }
  return tf.tidy(() => tf.div(tf.cast(tf.tensor4d(pixels, [count, height, width, channels], 'int32'), 'float32'), 255));
}
