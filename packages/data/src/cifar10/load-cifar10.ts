import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFormatError, InvalidArgumentError } from '@moco-robust/core';
import { CIFAR10_SOURCE, defaultCacheDir, readCifar10Archive } from '../download/datasets';
import {
  CIFAR10_CLASSES,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  concatImages,
  parseCifar10,
  type Cifar10Images,
} from './parse-cifar10';

/** The CIFAR-10 train and test splits. */
export interface Cifar10 {
  train: Cifar10Images;
  test: Cifar10Images;
  /** The class names, in label order ({@link CIFAR10_CLASSES}). */
  classes: typeof CIFAR10_CLASSES;
  /** Where the files were read from. */
  source: string;
}

/** What a CIFAR-10 location may be, for error messages. */
export const CIFAR10_LOCATION =
  'a folder holding the CIFAR-10 binary files (test_batch.bin, data_batch_1..5.bin), ' +
  'their parent with cifar-10-batches-bin/, or cifar-10-binary.tar.gz';

/** Is `path` an archive of the binary files (`.tar.gz`, `.tgz`, `.tar`)? */
const isArchive = (path: string) => /\.(tar\.gz|tgz|tar)$/i.test(path) && existsSync(path) && statSync(path).isFile();

/**
 * The CIFAR-10 copy at `path`, if it holds one: the path itself when it is an archive or a folder of
 * the `.bin` files, `path/cifar-10-batches-bin`, or `path/cifar-10-binary.tar.gz` (an unpacked
 * folder wins over an archive beside it).
 */
export function locateCifar10(path: string): string | undefined {
  if (isArchive(path)) return path;
  for (const folder of [path, join(path, 'cifar-10-batches-bin')]) {
    if (existsSync(join(folder, CIFAR10_TEST_FILE)) && statSync(folder).isDirectory()) return folder;
  }
  const archive = join(path, CIFAR10_SOURCE.file);
  return isArchive(archive) ? archive : undefined;
}

/**
 * Finds CIFAR-10: `dataDir` (a folder of the `.bin` files, its parent holding `cifar-10-batches-bin/`,
 * or the official `cifar-10-binary.tar.gz`), else the `MOCO_ROBUST_DATA` environment variable, else
 * the cache (`$MOCO_ROBUST_CACHE` or `~/.cache/moco-robust`: `cifar10/`, or the archive
 * `downloadCifar10` put there). Returns undefined when none holds the files; a `dataDir` that holds
 * none throws `InvalidArgumentError`. `resolveCifar10` also downloads.
 */
export function findCifar10(dataDir?: string): string | undefined {
  if (dataDir) {
    const found = locateCifar10(dataDir);
    if (!found) throw new InvalidArgumentError({ argument: 'dataDir', expected: CIFAR10_LOCATION, received: dataDir });
    return found;
  }
  const candidates = [process.env.MOCO_ROBUST_DATA, join(defaultCacheDir(), 'cifar10')].filter((d): d is string => !!d);
  for (const dir of candidates) {
    const found = locateCifar10(dir);
    if (found) return found;
  }
  return undefined;
}

/**
 * Reads CIFAR-10 from a folder of the official binary files or from the official `.tar.gz` archive
 * (streamed, never unpacked to disk). Files of any record count (including 0) are valid; a missing
 * file, or a truncated or corrupt one, throws `DataFormatError` naming the file and byte offset (the first such
 * file in the official order when several are bad).
 */
export async function loadCifar10(path: string): Promise<Cifar10> {
  if (isArchive(path)) return { ...(await readCifar10Archive(path)), classes: CIFAR10_CLASSES, source: path };
  const read = async (name: string) => {
    const file = join(path, name);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (error) {
      throw new DataFormatError({ path: file, message: 'missing or unreadable', cause: error });
    }
    return parseCifar10(bytes, file);
  };
  // read in parallel, but report the first bad file in the files' order, not whichever read failed first
  const reads = await Promise.allSettled(CIFAR10_TRAIN_FILES.map(read));
  const failed = reads.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const train = concatImages(reads.map((r) => (r as PromiseFulfilledResult<ReturnType<typeof parseCifar10>>).value));
  const test = await read(CIFAR10_TEST_FILE);
  return { train, test, classes: CIFAR10_CLASSES, source: path };
}
