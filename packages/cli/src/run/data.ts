import { join } from 'node:path';
import { DataFormatError } from '@moco-robust/core';
import { findCifar10, loadCifar10, takeImages, type Cifar10Images } from '@moco-robust/data';
import type { RunConfig } from '../presets';

/**
 * The CIFAR-10 training and test images a run uses (`--data`, else `MOCO_ROBUST_DATA`, else the cache), cut to the
 * config's sizes. The loader refuses truncated files and labels outside 0–9; a split the command `needs` that holds
 * no image (an empty `.bin`, valid as a file) is refused here, naming the file — before anything is written.
 */
export async function loadRunData(
  data: string | undefined,
  config: Pick<RunConfig, 'data'>,
  needs: { train?: boolean; test?: boolean } = {},
): Promise<{ folder: string; train: Cifar10Images; test: Cifar10Images }> {
  const folder = findCifar10(data);
  if (!folder) {
    throw new DataFormatError({
      path: data ?? process.env.MOCO_ROBUST_DATA ?? '~/.cache/moco-robust/cifar10',
      message: 'no CIFAR-10 binary files found: pass --data <folder of cifar-10-batches-bin> or set MOCO_ROBUST_DATA',
    });
  }
  const all = await loadCifar10(folder);
  const train = takeImages(all.train, config.data.trainImages);
  const test = takeImages(all.test, config.data.testImages);
  const empty = (split: 'training' | 'test', files: string) =>
    new DataFormatError({
      path: join(folder, files),
      message:
        `holds no ${split} image (0 records); this command needs at least one ` +
        `(or data.${split === 'test' ? 'test' : 'train'}Images is 0)`,
    });
  if (needs.train && train.count === 0) throw empty('training', 'data_batch_*.bin');
  if (needs.test && test.count === 0) throw empty('test', 'test_batch.bin');
  return { folder, train, test };
}
