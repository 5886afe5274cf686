import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DownloadError, emit, InvalidArgumentError, type EventListener, type MocoRobustEvent } from '@moco-robust/core';

/** Events of {@link downloadFile}. */
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
  onEvent?: EventListener<DownloadEvent & MocoRobustEvent>;
  /** Aborting leaves `<path>.part` for a later call to resume. */
  signal?: AbortSignal;
  /** The fetch to use (tests, proxies); default the global `fetch`. */
  fetch?: typeof fetch;
}

/** The hex digest of a file. */
export async function fileDigest(path: string, algorithm: 'md5' | 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const exists = async (path: string) => (await stat(path).catch(() => undefined))?.size;

/**
 * Downloads `url` to `path` with checksum verification: bytes go to `<path>.part`; an interrupted
 * download (network error, abort) leaves it, and the next call resumes it with an HTTP `Range`
 * request (a server that ignores Range restarts it); the complete file is verified and renamed into
 * place, or — on a wrong checksum — renamed `<path>.bad` and refused with a {@link DownloadError}
 * naming both checksums. A verified file already at `path` is used as it is.
 */
export async function downloadFile(options: DownloadFileOptions): Promise<string> {
  const { url, path } = options;
  const algorithm = options.sha256 ? 'sha256' : options.md5 ? 'md5' : undefined;
  if (!algorithm) throw new InvalidArgumentError({ argument: 'md5 | sha256', expected: 'the expected checksum of the file', received: undefined });
  const expected = (options.sha256 ?? options.md5)!.toLowerCase();
  const started = performance.now();
  if ((await exists(path)) !== undefined && (await fileDigest(path, algorithm)) === expected) {
    emit(options.onEvent, { type: 'download-end', url, path, bytes: (await exists(path))!, seconds: 0, cached: true });
    return path;
  }
  await mkdir(dirname(path), { recursive: true });
  const part = `${path}.part`;
  let offset = (await exists(part)) ?? 0;
  const fetcher = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetcher(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal: options.signal, redirect: 'follow' });
  } catch (cause) {
    throw new DownloadError({ url, message: `request failed (${(cause as Error).message}); ${offset > 0 ? `${part} is kept for resuming` : 'nothing was written'}`, cause });
  }
  if (response.status === 416 && offset > 0) {
    await response.body?.cancel();
  } else {
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      throw new DownloadError({ url, message: `HTTP ${response.status} ${response.statusText}${offset > 0 ? `; ${part} is kept for resuming` : ''}` });
    }
    if (response.status === 200) offset = 0; // the server ignored Range: start again
    const length = Number(response.headers.get('content-length') ?? NaN);
    const totalBytes = Number.isFinite(length) ? offset + length : undefined;
    emit(options.onEvent, { type: 'download-start', url, path, resumeFrom: offset, totalBytes });
    const file = await open(part, offset > 0 ? 'a' : 'w');
    let bytes = offset;
    let lastEvent = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        await file.write(chunk);
        bytes += chunk.length;
        const now = performance.now();
        if (now - lastEvent > 200) {
          lastEvent = now;
          emit(options.onEvent, { type: 'download-progress', url, bytes, totalBytes });
        }
      }
      await file.sync();
    } catch (cause) {
      throw new DownloadError({ url, message: `interrupted after ${bytes} bytes${totalBytes ? ` of ${totalBytes}` : ''} (${(cause as Error).message}); ${part} is kept: run again to resume`, cause });
    } finally {
      await file.close();
    }
    emit(options.onEvent, { type: 'download-progress', url, bytes, totalBytes });
    if (totalBytes !== undefined && bytes < totalBytes) {
      throw new DownloadError({ url, message: `the connection ended after ${bytes} of ${totalBytes} bytes; ${part} is kept: run again to resume` });
    }
  }
  const actual = await fileDigest(part, algorithm);
  if (actual !== expected) {
    await rm(`${path}.bad`, { force: true });
    await rename(part, `${path}.bad`);
    throw new DownloadError({ url, message: `checksum mismatch: expected ${algorithm} ${expected}, got ${actual}; the file is kept aside as ${path}.bad and was not used` });
  }
  await rename(part, path);
  emit(options.onEvent, { type: 'download-end', url, path, bytes: (await exists(path))!, seconds: (performance.now() - started) / 1000, cached: false });
  return path;
}
