import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AbortedError, DownloadError, emit, InvalidArgumentError, type EventListener } from '@moco-robust/core';
import { ChecksumError } from './checksum-error';

/** Events of {@link downloadFile}; `download-progress` comes at most every 200 ms, and once at the end. */
export type DownloadEvent =
  | { type: 'download-start'; url: string; path: string; resumeFrom: number; totalBytes?: number }
  | { type: 'download-progress'; url: string; bytes: number; totalBytes?: number }
  | { type: 'download-end'; url: string; path: string; bytes: number; seconds: number; cached: boolean };

/** Options of {@link downloadFile}. */
export interface DownloadFileOptions {
  url: string;
  /** Final path; the download goes to `<path>.part` until it is complete and verified. */
  path: string;
  /** Expected checksum of the whole file (hex); one of them is required. */
  md5?: string;
  sha256?: string;
  onEvent?: EventListener<DownloadEvent>;
  /** Aborting throws `AbortedError` and leaves `<path>.part` for a later call to resume. */
  signal?: AbortSignal;
  /** The fetch to use (tests, proxies); default the global `fetch`. */
  fetch?: typeof fetch;
}

const PROGRESS_INTERVAL_MS = 200;

/** Feeds the bytes of the file at `path` into `hash`. */
async function hashFile(hash: Hash, path: string): Promise<Hash> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

/** The hex digest of a file. */
export async function fileDigest(path: string, algorithm: 'md5' | 'sha256'): Promise<string> {
  return (await hashFile(createHash(algorithm), path)).digest('hex');
}

const sizeOf = async (path: string) => (await stat(path).catch(() => undefined))?.size;

/** Why a download stopped, as a typed error: `AbortedError` when `signal` fired, else a {@link DownloadError}. */
function interrupted(options: DownloadFileOptions, when: string, cause?: unknown): Error {
  const part = `${options.path}.part`;
  if (options.signal?.aborted)
    return new AbortedError(
      `The download of ${options.url} was aborted ${when}; ${part} is kept: run again to resume.`,
      { cause },
    );
  return new DownloadError({
    url: options.url,
    message:
      `interrupted ${when}${cause ? ` (${(cause as Error).message})` : ''}; ` + `${part} is kept: run again to resume`,
    cause,
  });
}

/**
 * Writes the body of `response` to `part` from byte `offset` (appending when resuming), feeding
 * `hash` as the bytes go by; throws when the body ends early or the connection breaks.
 */
async function receive(
  response: Response,
  part: string,
  offset: number,
  hash: Hash,
  options: DownloadFileOptions,
  totalBytes: number | undefined,
): Promise<void> {
  const { url, onEvent } = options;
  const file = await open(part, offset > 0 ? 'a' : 'w');
  let bytes = offset;
  let lastEvent = -Infinity;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      await file.write(chunk);
      hash.update(chunk);
      bytes += chunk.length;
      const now = performance.now();
      if (now - lastEvent >= PROGRESS_INTERVAL_MS) {
        lastEvent = now;
        emit(onEvent, { type: 'download-progress', url, bytes, totalBytes });
      }
    }
    await file.sync();
  } catch (cause) {
    throw interrupted(options, `after ${bytes} bytes${totalBytes ? ` of ${totalBytes}` : ''}`, cause);
  } finally {
    await file.close();
  }
  emit(onEvent, { type: 'download-progress', url, bytes, totalBytes });
  if (totalBytes !== undefined && bytes < totalBytes)
    throw interrupted(options, `after ${bytes} of ${totalBytes} bytes: the connection ended`);
}

/**
 * Downloads `url` to `path` with checksum verification: bytes go to `<path>.part` and are hashed as
 * they arrive; an interrupted download (network error, abort) leaves the `.part`, and the next call
 * resumes it with an HTTP `Range` request (206; a server that ignores Range and answers 200 restarts
 * it). The complete file is verified and renamed into place atomically, or — on a wrong checksum —
 * renamed `<path>.bad` and refused with a {@link ChecksumError} naming both checksums (a file already
 * at `path` is left as it was). A file already at `path` whose checksum matches is used as it is.
 */
export async function downloadFile(options: DownloadFileOptions): Promise<string> {
  const { url, path } = options;
  const algorithm = options.sha256 ? 'sha256' : options.md5 ? 'md5' : undefined;
  if (!algorithm)
    throw new InvalidArgumentError({
      argument: 'md5 | sha256',
      expected: 'the expected checksum of the file',
      received: undefined,
    });
  const expected = (options.sha256 ?? options.md5)!.toLowerCase();
  const started = performance.now();
  const existing = await sizeOf(path);
  if (existing !== undefined && (await fileDigest(path, algorithm)) === expected) {
    emit(options.onEvent, {
      type: 'download-end',
      url,
      path,
      bytes: existing,
      seconds: (performance.now() - started) / 1000,
      cached: true,
    });
    return path;
  }
  await mkdir(dirname(path), { recursive: true });
  const part = `${path}.part`;
  const resumeFrom = (await sizeOf(part)) ?? 0;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      headers: resumeFrom > 0 ? { Range: `bytes=${resumeFrom}-` } : {},
      signal: options.signal,
      redirect: 'follow',
    });
  } catch (cause) {
    if (resumeFrom > 0) throw interrupted(options, 'before the request was answered', cause);
    if (options.signal?.aborted)
      throw new AbortedError(`The download of ${url} was aborted before it started.`, { cause });
    throw new DownloadError({
      url,
      message: `request failed (${(cause as Error).message}); nothing was written`,
      cause,
    });
  }
  let hash: Hash;
  if (response.status === 416 && resumeFrom > 0) {
    // nothing past the end of `.part`: it already holds the whole file (or more); verify it as it is
    await response.body?.cancel();
    hash = await hashFile(createHash(algorithm), part);
  } else {
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      throw new DownloadError({
        url,
        message:
          `HTTP ${response.status} ` +
          `${response.statusText}${resumeFrom > 0 ? `; ${part} is kept for resuming` : ''}`,
      });
    }
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (response.status === 206 && (!range || Number(range[1]) !== resumeFrom)) {
      await response.body?.cancel();
      await rm(part, { force: true });
      throw new DownloadError({
        url,
        message:
          `asked for bytes ${resumeFrom}- but the server sent Content-Range ` +
          `'${response.headers.get('content-range')}'; ${part} was removed: run again to download from the start`,
      });
    }
    const offset = response.status === 206 ? resumeFrom : 0; // 200: the server ignored Range, start again
    const length = Number(response.headers.get('content-length') ?? NaN);
    const totalBytes =
      range && range[2] !== '*' ? Number(range[2]) : Number.isFinite(length) ? offset + length : undefined;
    emit(options.onEvent, { type: 'download-start', url, path, resumeFrom: offset, totalBytes });
    hash = createHash(algorithm);
    if (offset > 0) await hashFile(hash, part);
    await receive(response, part, offset, hash, options, totalBytes);
  }
  const actual = hash.digest('hex');
  if (actual !== expected) {
    await rm(`${path}.bad`, { force: true });
    await rename(part, `${path}.bad`);
    throw new ChecksumError({ url, path, algorithm, expected, actual });
  }
  await rename(part, path);
  emit(options.onEvent, {
    type: 'download-end',
    url,
    path,
    bytes: (await sizeOf(path))!,
    seconds: (performance.now() - started) / 1000,
    cached: false,
  });
  return path;
}
