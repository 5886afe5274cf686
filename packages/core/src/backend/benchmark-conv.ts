import * as tf from '@tensorflow/tfjs-core';

/** Shape of the convolution benchmark: NHWC input, square kernel, 'same' padding, stride 1. */
export interface ConvBenchmarkShape {
  batch: number;
  size: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
}

/** GFLOP/s of one op (a multiply-add counts 2 FLOP), or why it could not run. */
export interface ConvBenchmarkResult {
  backend: string;
  shape: ConvBenchmarkShape;
  forward: number | string;
  inputGradient: number | string;
  filterGradient: number | string;
}

/** The benchmark shape of docs/benchmarks.md: 3×3 conv 64→64 on 32×32, batch 32. */
export const STANDARD_CONV_SHAPE: ConvBenchmarkShape = {
  batch: 32,
  size: 32,
  inChannels: 64,
  outChannels: 64,
  kernel: 3,
};

/**
 * Times conv2d forward, input gradient and filter gradient on the current backend and returns
 * GFLOP/s for each (median of `repeats` after a warm-up; one host sync per repetition, reading one value).
 */
export async function benchmarkConv2d(
  shape: ConvBenchmarkShape = STANDARD_CONV_SHAPE,
  repeats = 5,
): Promise<ConvBenchmarkResult> {
  const { batch, size, inChannels, outChannels, kernel } = shape;
  const flop = 2 * batch * size * size * inChannels * outChannels * kernel * kernel;
  const x = tf.randomNormal([batch, size, size, inChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([kernel, kernel, inChannels, outChannels], 0, 0.1, 'float32', 2) as tf.Tensor4D;
  const dy = tf.randomNormal([batch, size, size, outChannels], 0, 1, 'float32', 3) as tf.Tensor4D;
  // waits for `out` by reading one of its values: reading all of it back would time the copy into JavaScript (a fresh
  // 8 MiB array, 21 ms on the native backend, against the convolution's 7) rather than the op
  const finish = async (out: tf.Tensor) => {
    const first = tf.tidy(() => tf.slice(tf.reshape(out, [-1]), 0, 1));
    await first.data();
    tf.dispose([first, out]);
  };
  const measure = async (op: () => tf.Tensor): Promise<number | string> => {
    try {
      await finish(op());
      const times: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const start = performance.now();
        await finish(op());
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      return flop / (times[Math.floor(times.length / 2)] * 1e6);
    } catch (error) {
      return `unavailable: ${(error as Error).message.split('\n')[0].slice(0, 120)}`;
    }
  };
  const result: ConvBenchmarkResult = {
    backend: tf.getBackend(),
    shape,
    forward: await measure(() => tf.conv2d(x, w, 1, 'same')),
    inputGradient: await measure(() => tf.conv2dTranspose(dy, w, x.shape, 1, 'same')),
    filterGradient: await measure(() =>
      tf.tidy(() =>
        tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same'), dy)))(w),
      ),
    ),
  };
  tf.dispose([x, w, dy]);
  return result;
}
