import { join } from 'node:path';
import { InvalidArgumentError } from '@moco-robust/core';
import { CIFAR10_SOURCE, defaultCacheDir, downloadCifar10, type DatasetDownloadOptions } from '../download/datasets';
import { CIFAR10_LOCATION, locateCifar10 } from './load-cifar10';

/** Options of {@link resolveCifar10}: where a local copy is, and whether to download (with the download's options). */
export interface ResolveCifar10Options extends DatasetDownloadOptions {
  /** A local copy (the CLI's `--data`): {@link CIFAR10_LOCATION}. Default `MOCO_ROBUST_DATA`. */
  data?: string;
  /** Download the official archive into the cache when there is no copy; default false. */
  download?: boolean;
}

/** Where {@link resolveCifar10} found CIFAR-10: a path for `loadCifar10` and how it got there. */
export interface ResolvedCifar10 {
  path: string;
  origin: 'data' | 'environment' | 'cache' | 'download';
}

/**
 * Finds or fetches CIFAR-10: the local copy `data` when given, else `MOCO_ROBUST_DATA`, else the
 * cache (`cacheDir`, `MOCO_ROBUST_CACHE` or `~/.cache/moco-robust`; its `cifar10/` holds a verified
 * archive or the unpacked files), else — only when `download` is true — downloads the official
 * archive there (checksum verified, resumed when a `.part` is left). A `data` or `MOCO_ROBUST_DATA`
 * that holds no copy, or nothing found without `download`, throws `InvalidArgumentError`.
 */
export async function resolveCifar10(options: ResolveCifar10Options = {}): Promise<ResolvedCifar10> {
  const local = [
    { argument: 'data', value: options.data, origin: 'data' as const },
    { argument: 'MOCO_ROBUST_DATA', value: process.env.MOCO_ROBUST_DATA, origin: 'environment' as const },
  ].find((c) => !!c.value);
  if (local) {
    const path = locateCifar10(local.value!);
    if (!path)
      throw new InvalidArgumentError({ argument: local.argument, expected: CIFAR10_LOCATION, received: local.value });
    return { path, origin: local.origin };
  }
  const cache = join(options.cacheDir ?? defaultCacheDir(), 'cifar10');
  const cached = locateCifar10(cache);
  if (cached) return { path: cached, origin: 'cache' };
  if (!options.download) {
    throw new InvalidArgumentError({
      argument: 'data',
      expected: CIFAR10_LOCATION,
      received: undefined,
      hint:
        `Nothing in the cache ${cache} either: set MOCO_ROBUST_DATA, or allow the download ` +
        `of ${CIFAR10_SOURCE.url} (download: true; CLI: moco-robust data download).`,
    });
  }
  return { path: await downloadCifar10(options), origin: 'download' };
}
