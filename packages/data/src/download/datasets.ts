import { createReadStream } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { DataFormatError, MocoRobustError, type EventListener } from '@moco-robust/core';
import { CIFAR10_TRAIN_FILES, concatImages, parseCifar10, type Cifar10Images } from '../cifar10/parse-cifar10';
import { downloadFile, type DownloadEvent } from './download-file';
import { readTar } from './tar';

/** The official CIFAR-10 binary archive (Krizhevsky) and its published MD5. */
export const CIFAR10_SOURCE = {
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  file: 'cifar-10-binary.tar.gz',
} as const;

/** The official CIFAR-10-C release (Hendrycks & Dietterich, Zenodo record 2535967) and the MD5 Zenodo lists for it. */
export const CIFAR10C_SOURCE = {
  url: 'https://zenodo.org/records/2535967/files/CIFAR-10-C.tar',
  md5: '56bf5dcef84df0e2308c6dcbcbbd8499',
  file: 'CIFAR-10-C.tar',
} as const;

/** The cache folder: `MOCO_ROBUST_CACHE`, else `~/.cache/moco-robust`. */
export function defaultCacheDir(): string {
  return process.env.MOCO_ROBUST_CACHE ?? join(homedir(), '.cache', 'moco-robust');
}

/** Options of the dataset downloads. */
export interface DatasetDownloadOptions {
  /** Default {@link defaultCacheDir}. */
  cacheDir?: string;
  /** Another mirror of the same file (the checksum still applies). */
  url?: string;
  md5?: string;
  onEvent?: EventListener<DownloadEvent>;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/**
 * Downloads (or finds, verified, in the cache) the official CIFAR-10 archive; returns
 * `<cache>/cifar10/cifar-10-binary.tar.gz`.
 */
export function downloadCifar10(options: DatasetDownloadOptions = {}): Promise<string> {
  const path = join(options.cacheDir ?? defaultCacheDir(), 'cifar10', CIFAR10_SOURCE.file);
  return downloadFile({
    url: options.url ?? CIFAR10_SOURCE.url,
    md5: options.md5 ?? CIFAR10_SOURCE.md5,
    path,
    onEvent: options.onEvent,
    signal: options.signal,
    fetch: options.fetch,
  });
}

/**
 * Downloads (or finds) the official CIFAR-10-C tar and unpacks its `.npy` files into
 * `<cache>/cifar10c/CIFAR-10-C/` (each file written as `.part` and renamed when complete); returns
 * that folder, which `loadCifar10C` and `eval --cifar10c` read.
 */
export async function downloadCifar10C(options: DatasetDownloadOptions = {}): Promise<string> {
  const root = join(options.cacheDir ?? defaultCacheDir(), 'cifar10c');
  const archive = await downloadFile({
    url: options.url ?? CIFAR10C_SOURCE.url,
    md5: options.md5 ?? CIFAR10C_SOURCE.md5,
    path: join(root, CIFAR10C_SOURCE.file),
    onEvent: options.onEvent,
    signal: options.signal,
    fetch: options.fetch,
  });
  const out = join(root, 'CIFAR-10-C');
  await mkdir(out, { recursive: true });
  for await (const entry of readTar(createReadStream(archive) as AsyncIterable<Uint8Array>, archive)) {
    if (!entry.name.endsWith('.npy')) continue;
    const target = join(out, basename(entry.name));
    const file = await open(`${target}.part`, 'w');
    try {
      for await (const piece of entry.chunks()) await file.write(piece);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(`${target}.part`, target);
  }
  return out;
}

/**
 * The decompressed bytes of a gzip file; corrupt or truncated gzip data throws `DataFormatError`
 * naming `path` and the compressed byte offset where decoding failed.
 */
async function* gunzipFile(path: string): AsyncGenerator<Uint8Array> {
  const gunzip = createGunzip();
  createReadStream(path)
    .on('error', (error) => gunzip.destroy(error))
    .pipe(gunzip);
  let produced = 0;
  try {
    for await (const chunk of gunzip) {
      produced += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  } catch (error) {
    throw new DataFormatError({
      path,
      offset: gunzip.bytesWritten,
      message: `corrupt or truncated gzip data after ${produced} decompressed bytes (${(error as Error).message})`,
      cause: error,
    });
  }
}

/**
 * Reads CIFAR-10 straight from the official `cifar-10-binary.tar.gz` (or an uncompressed `.tar`),
 * streamed through gunzip and a tar reader — nothing is unpacked to disk. Files of any record count
 * are valid; a missing batch, a truncated member or a corrupt archive throws `DataFormatError`
 * naming the archive (and member) and the byte offset.
 */
export async function readCifar10Archive(path: string): Promise<{ train: Cifar10Images; test: Cifar10Images }> {
  const stream = /\.t?gz$/i.test(path) ? gunzipFile(path) : (createReadStream(path) as AsyncIterable<Uint8Array>);
  const members = new Map<string, Cifar10Images>();
  try {
    for await (const entry of readTar(stream, path)) {
      const name = basename(entry.name);
      if (name === 'test_batch.bin' || CIFAR10_TRAIN_FILES.includes(name))
        members.set(name, parseCifar10(await entry.bytes(), `${path}:${entry.name}`));
    }
  } catch (error) {
    if (MocoRobustError.isInstance(error)) throw error;
    throw new DataFormatError({ path, message: `cannot read the archive (${(error as Error).message})`, cause: error });
  }
  const missing = ['test_batch.bin', ...CIFAR10_TRAIN_FILES].filter((n) => !members.has(n));
  if (missing.length > 0)
    throw new DataFormatError({
      path,
      message:
        `the archive lacks ${missing.join(', ')} (expected ` +
        `cifar-10-batches-bin/data_batch_1..5.bin and test_batch.bin)`,
    });
  return { train: concatImages(CIFAR10_TRAIN_FILES.map((n) => members.get(n)!)), test: members.get('test_batch.bin')! };
}
