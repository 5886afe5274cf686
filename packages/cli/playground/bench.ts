// `?bench`: the page measures its classifier's throughput on the backend it runs on (docs/benchmarks.md, "In the
// browser"): clean inference and supervised PGD-10 on a batch of the served test images, the same workloads as the
// Node bench. scripts/browser-bench.mjs opens it per backend in headless Chromium and collects the numbers.
import * as tf from '@tensorflow/tfjs-core';
import { supervisedPgd, toForward, type ModelLikeForward } from '@moco-robust/attacks';
import { imagesFromUint8, Rng } from '@moco-robust/core';
import type { ImageBank } from './load-run';

/** What `?bench` measures, from the page's query string. */
export interface BenchSettings {
  /** Images per batch (`batch`, default 32). */
  batch: number;
  /** PGD steps (`steps`, default 10). */
  steps: number;
  /** Least wall time of each timed workload (`seconds`, default 5): whole repetitions until it is reached. */
  seconds: number;
}

export interface BenchResult {
  backend: string;
  batch: number;
  steps: number;
  /** Clean forward passes, images/s (each repetition reads its logits back). */
  inferenceImagesPerSecond: number;
  /** Supervised PGD (ε 8/255, α 2/255, random start), images/s (each repetition reads its images back). */
  pgdImagesPerSecond: number;
  /** Timed repetitions of each workload. */
  repetitions: { inference: number; pgd: number };
  /** Tensors alive after the bench minus before (0: nothing leaked). */
  leakedTensors: number;
}

/** Reads `batch`, `steps` and `seconds` from the query string, refusing what is not a positive number. */
export function benchSettings(query: URLSearchParams): BenchSettings {
  const positive = (name: string, fallback: number, integer: boolean) => {
    const text = query.get(name);
    const value = text === null ? fallback : Number(text);
    if (!(value > 0) || (integer && !Number.isInteger(value)))
      throw new Error(`?${name}: expected a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
    return value;
  };
  return {
    batch: positive('batch', 32, true),
    steps: positive('steps', 10, true),
    seconds: positive('seconds', 5, false),
  };
}

/** Repeats `run` (after one untimed warm-up) until `seconds` have passed; returns repetitions per second. */
async function timed(run: () => Promise<void>, seconds: number): Promise<{ perSecond: number; repetitions: number }> {
  await run(); // warm-up: shader compilation, kernel set-up, allocations
  let repetitions = 0;
  const started = performance.now();
  while (repetitions === 0 || performance.now() - started < seconds * 1000) {
    await run();
    repetitions++;
  }
  return { perSecond: (repetitions * 1000) / (performance.now() - started), repetitions };
}

/** Measures `classifier` on the first `batch` images of `bank` (repeated when it has fewer). */
export async function runBench(
  classifier: ModelLikeForward,
  bank: ImageBank,
  settings: BenchSettings,
): Promise<BenchResult> {
  if (bank.count === 0) throw new Error('?bench needs test images: start the playground with --data');
  const before = tf.memory().numTensors;
  const { batch, steps } = settings;
  const pixels = new Uint8Array(batch * 3072);
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    pixels.set(bank.images.subarray((i % bank.count) * 3072, ((i % bank.count) + 1) * 3072), i * 3072);
    labels[i] = bank.labels[i % bank.count]!;
  }
  const x = imagesFromUint8(pixels, batch);
  const y = tf.tensor1d(labels, 'int32');
  const forward = toForward(classifier);
  const rng = Rng.fromSeed(0);
  let result: BenchResult;
  try {
    const inference = await timed(async () => {
      const logits = tf.tidy(() => forward(x));
      await logits.data();
      logits.dispose();
    }, settings.seconds);
    const pgd = await timed(async () => {
      const adversarial = supervisedPgd(forward, x, y, { epsilon: 8 / 255, stepSize: 2 / 255, steps, rng });
      await adversarial.data();
      adversarial.dispose();
    }, settings.seconds);
    result = {
      backend: tf.getBackend(),
      batch,
      steps,
      inferenceImagesPerSecond: inference.perSecond * batch,
      pgdImagesPerSecond: pgd.perSecond * batch,
      repetitions: { inference: inference.repetitions, pgd: pgd.repetitions },
      leakedTensors: 0,
    };
  } finally {
    tf.dispose([x, y]);
  }
  result.leakedTensors = tf.memory().numTensors - before;
  return result;
}
