import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '@moco-robust/core';
import {
  CIFAR10_LOCATION,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILE,
  findCifar10,
  locateCifar10,
  parseCifar10,
  type LabelledImageSet,
} from '@moco-robust/data';

/** Options of {@link loadSample}. */
export interface LoadSampleOptions {
  /**
   * A folder of the official CIFAR-10 binary files or its parent; default `MOCO_ROBUST_DATA`, then the cache
   * (`findCifar10`).
   */
  dir?: string;
  /** Training images: the first `train` records of `trainFile`; default 512. */
  train?: number;
  /** Test images: the first `test` records of `test_batch.bin`; default 256. */
  test?: number;
  /** Default `data_batch_1.bin`. */
  trainFile?: string;
}

/** The labelled images {@link loadSample} returns (uint8 HWC, as `@moco-robust/data` keeps them). */
export interface Sample {
  train: LabelledImageSet;
  test: LabelledImageSet;
  /** The folder the files were read from. */
  source: string;
}

/**
 * Reads a small real CIFAR-10 sample for plugin tests: the first `train` images of one training file
 * and the first `test` of the test file, reading only those records. Returns `undefined` when no
 * `dir` is given and none is found (so a test can skip); a `dir` without the files, or files with
 * fewer records, throws `InvalidArgumentError`.
 */
export function loadSample(options: LoadSampleOptions = {}): Sample | undefined {
  const train = options.train ?? 512;
  const test = options.test ?? 256;
  for (const [argument, value] of [
    ['train', train],
    ['test', test],
  ] as const) {
    if (!(Number.isInteger(value) && value >= 0))
      throw new InvalidArgumentError({ argument, expected: 'an integer ≥ 0 (images)', received: value });
  }
  const found = options.dir === undefined ? findCifar10() : locateCifar10(options.dir);
  if (found === undefined && options.dir !== undefined)
    throw new InvalidArgumentError({ argument: 'dir', expected: CIFAR10_LOCATION, received: options.dir });
  if (found === undefined) return undefined;
  if (!statSync(found).isDirectory())
    throw new InvalidArgumentError({
      argument: 'dir',
      expected: `${CIFAR10_LOCATION}, unpacked (loadSample reads records, not archives)`,
      received: found,
    });
  return {
    train: readRecords(join(found, options.trainFile ?? 'data_batch_1.bin'), train, 'train'),
    test: readRecords(join(found, CIFAR10_TEST_FILE), test, 'test'),
    source: found,
  };
}

/** The first `count` records of a CIFAR-10 binary file, read without loading the rest. */
function readRecords(path: string, count: number, argument: string): LabelledImageSet {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new InvalidArgumentError({
      argument: 'dir',
      expected: `a folder holding ${path.split(/[\\/]/).pop()}`,
      received: path,
      cause: error,
    });
  }
  try {
    const available = Math.floor(statSync(path).size / CIFAR10_RECORD_BYTES);
    if (count > available)
      throw new InvalidArgumentError({
        argument,
        expected: `at most the ${available} records of ${path}`,
        received: count,
      });
    const bytes = new Uint8Array(count * CIFAR10_RECORD_BYTES);
    readSync(fd, bytes, 0, bytes.length, 0);
    return parseCifar10(bytes, path);
  } finally {
    closeSync(fd);
  }
}
