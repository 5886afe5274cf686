import { availableParallelism } from 'node:os';
import {
  corruptImages,
  corruptImagesParallel,
  findCifar10,
  loadCifar10,
  loadFrostTextures,
  takeImages,
  type CorruptImagesParallelEvent,
} from '@moco-robust/data';

/**
 * CIFAR-10-C generator throughput: per corruption (all 5 severities of each image) and overall, in one thread and on
 * workers.
 */
export interface CorruptionBenchmark {
  images: number;
  source: string;
  workers: number;
  frost: boolean;
  single: { perCorruption: Record<string, number>; overall: number };
  parallel: { perCorruption: Record<string, number>; overall: number };
  /**
   * Resident memory of this process: at the start, and its peak after the one-thread and the worker runs (blocks are
   * streamed, so it must not grow with `images`).
   */
  memory: { startMiB: number; singlePeakMiB: number; parallelPeakMiB: number };
}

const peakMiB = () => process.resourceUsage().maxRSS / 1024;

async function time(
  run: (onEvent: (event: CorruptImagesParallelEvent) => void) => Promise<void>,
  count: number,
): Promise<{ perCorruption: Record<string, number>; overall: number }> {
  const seconds: Record<string, number> = {};
  const started = performance.now();
  await run((event) => {
    if (event.type === 'corruption-end') seconds[event.corruption] = (seconds[event.corruption] ?? 0) + event.seconds;
  });
  const total = (performance.now() - started) / 1000;
  return {
    perCorruption: Object.fromEntries(Object.entries(seconds).map(([name, s]) => [name, count / s])) as Record<
      string,
      number
    >,
    overall: count / total,
  };
}

/**
 * Generates all 19 corruptions × 5 severities of `count` CIFAR-10 training images (seeded noise when no data is
 * found).
 */
export async function benchmarkCorruptions(options: {
  count: number;
  workers?: number;
  data?: string;
  frost?: string;
}): Promise<CorruptionBenchmark> {
  const folder = (() => {
    try {
      return findCifar10(options.data);
    } catch {
      return undefined;
    }
  })();
  let images: Uint8Array;
  let source: string;
  const startMiB = process.memoryUsage().rss / 2 ** 20;
  if (folder) {
    const train = (await loadCifar10(folder)).train;
    const distinct = takeImages(train, options.count);
    images = new Uint8Array(options.count * 3072);
    for (let offset = 0; offset < images.length; offset += distinct.images.length)
      images.set(distinct.images.subarray(0, Math.min(distinct.images.length, images.length - offset)), offset);
    source =
      `CIFAR-10 training images from ` +
      `${folder}${distinct.count < options.count ? `, ${distinct.count} distinct repeated` : ''}`;
  } else {
    images = new Uint8Array(options.count * 3072);
    let state = 12345;
    for (let i = 0; i < images.length; i++) images[i] = (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
    source = 'seeded noise (no CIFAR-10 found)';
  }
  const count = images.length / 3072;
  const frostTextures = options.frost ? await loadFrostTextures(options.frost) : undefined;
  const workers = options.workers ?? availableParallelism();
  const single = await time(async (onEvent) => {
    for (const block of corruptImages(images, count, { seed: 1, frostTextures, onEvent })) void block;
  }, count);
  const singlePeakMiB = peakMiB();
  const parallel = await time(async (onEvent) => {
    for await (const block of corruptImagesParallel(images, count, { seed: 1, frostTextures, workers, onEvent }))
      void block;
  }, count);
  return {
    images: count,
    source,
    workers,
    frost: frostTextures !== undefined,
    single,
    parallel,
    memory: { startMiB, singlePeakMiB, parallelPeakMiB: peakMiB() },
  };
}
