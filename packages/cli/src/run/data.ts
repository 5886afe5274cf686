import { DataFormatError } from '@moco-robust/core';
import { findCifar10, loadCifar10, takeImages, type Cifar10Images } from '@moco-robust/data';
import type { RunConfig } from '../presets';

/**
 * The CIFAR-10 training and test images a run uses (`--data`, else `MOCO_ROBUST_DATA`, else the cache), cut to the
 * config's sizes.
 */
export async function loadRunData(
  data: string | undefined,
  config: Pick<RunConfig, 'data'>,
): Promise<{ folder: string; train: Cifar10Images; test: Cifar10Images }> {
  const folder = findCifar10(data);
  if (!folder) {
    throw new DataFormatError({
      path: data ?? process.env.MOCO_ROBUST_DATA ?? '~/.cache/moco-robust/cifar10',
      message: 'no CIFAR-10 binary files found: pass --data <folder of cifar-10-batches-bin> or set MOCO_ROBUST_DATA',
    });
  }
  const all = await loadCifar10(folder);
  return {
    folder,
    train: takeImages(all.train, config.data.trainImages),
    test: takeImages(all.test, config.data.testImages),
  };
}
