import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DataFormatError, InvalidArgumentError } from '@moco-robust/core';
import { readCifar10Archive } from '../download/datasets';
import { concatImages, parseCifar10, type Cifar10Images } from './parse-cifar10';

/** The CIFAR-10 train and test splits. */
export interface Cifar10 {
  train: Cifar10Images;
  test: Cifar10Images;
  /** Where the files were read from. */
  source: string;
}

const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];

/** Is `path` an archive of the binary files (`.tar.gz`, `.tgz`, `.tar`)? */
const isArchive = (path: string) => /\.(tar\.gz|tgz|tar)$/i.test(path) && existsSync(path) && statSync(path).isFile();

/**
 * Finds CIFAR-10: `dataDir` (a folder of the `.bin` files, its parent holding `cifar-10-batches-bin/`,
 * or the official `cifar-10-binary.tar.gz`), else the `MOCO_ROBUST_DATA` environment variable, else
 * the cache (`$MOCO_ROBUST_CACHE` or `~/.cache/moco-robust`: `cifar10/`, or the archive
 * `downloadCifar10` put there). Returns undefined when none holds the files; a `dataDir` that holds
 * none throws `InvalidArgumentError`.
 */
export function findCifar10(dataDir?: string): string | undefined {
  const cache = join(process.env.MOCO_ROBUST_CACHE ?? join(homedir(), '.cache', 'moco-robust'), 'cifar10');
  const candidates = [dataDir, process.env.MOCO_ROBUST_DATA, cache].filter((d): d is string => !!d);
  for (const dir of candidates) {
    if (isArchive(dir)) return dir;
    for (const folder of [dir, join(dir, 'cifar-10-batches-bin')]) {
      if (existsSync(join(folder, 'test_batch.bin')) && statSync(folder).isDirectory()) return folder;
    }
    if (isArchive(join(dir, 'cifar-10-binary.tar.gz'))) return join(dir, 'cifar-10-binary.tar.gz');
    if (dir === dataDir) {
      throw new InvalidArgumentError({ argument: 'dataDir', expected: 'a folder holding the CIFAR-10 binary files (test_batch.bin, data_batch_1..5.bin), their parent with cifar-10-batches-bin/, or cifar-10-binary.tar.gz', received: dir });
    }
  }
  return undefined;
}

/**
 * Reads CIFAR-10 from a folder of the official binary files or from the official `.tar.gz` archive
 * (streamed, never unpacked to disk); any record counts; missing batches are an error.
 */
export async function loadCifar10(folder: string): Promise<Cifar10> {
  if (isArchive(folder)) return { ...(await readCifar10Archive(folder)), source: folder };
  const read = async (name: string) => {
    const path = join(folder, name);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (error) {
      throw new DataFormatError({ path, message: 'missing or unreadable', cause: error });
    }
    return parseCifar10(bytes, path);
  };
  const train = concatImages(await Promise.all(TRAIN_FILES.map(read)));
  const test = await read('test_batch.bin');
  return { train, test, source: folder };
}
