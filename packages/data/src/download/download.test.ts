import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataFormatError, DownloadError } from '@moco-robust/core';
import { cifarSampleDir } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCifar10, loadCifar10 } from '../cifar10/load-cifar10';
import { downloadCifar10, readCifar10Archive } from './datasets';
import { downloadFile, type DownloadEvent } from './download-file';
import { readTar } from './tar';

/** A ustar archive of `files` (name → bytes), written here independently of the reader under test. */
function ustar(files: Record<string, Uint8Array>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, data] of Object.entries(files)) {
    const header = new Uint8Array(512);
    const put = (text: string, at: number) => header.set(new TextEncoder().encode(text), at);
    put(name, 0);
    put('0000644\0', 100);
    put('0000000\0', 108);
    put('0000000\0', 116);
    put(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    put('00000000000\0', 136);
    header[156] = 48; // '0': a regular file
    put('ustar\0', 257);
    put('00', 263);
    header.fill(32, 148, 156);
    const sum = header.reduce((a, b) => a + b, 0);
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const sample = cifarSampleDir();

async function* toAsync(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}
const FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

describe.skipIf(!sample)('CIFAR-10 archives and downloads (local http server on 127.0.0.1)', () => {
  let root = '';
  let archive: Uint8Array; // a cifar-10-binary.tar.gz of the first 40 records of each file
  let folder = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'data-download-'));
    folder = join(root, 'cifar-10-batches-bin');
    mkdirSync(folder);
    const members: Record<string, Uint8Array> = { 'cifar-10-batches-bin/batches.meta.txt': new TextEncoder().encode('airplane\n') };
    for (const file of FILES) {
      const bytes = new Uint8Array(readFileSync(join(sample!, file)).subarray(0, 40 * 3073));
      writeFileSync(join(folder, file), bytes);
      members[`cifar-10-batches-bin/${file}`] = bytes;
    }
    archive = gzipSync(ustar(members));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads the official .tar.gz layout streamed, equal to the unpacked folder, and findCifar10 accepts the archive', async () => {
    const path = join(root, 'cifar-10-binary.tar.gz');
    writeFileSync(path, archive);
    expect(findCifar10(path)).toBe(path);
    expect(findCifar10(root)).toBe(folder); // the unpacked folder wins over the archive beside it
    const fromArchive = await loadCifar10(path);
    const fromFolder = await loadCifar10(folder);
    expect(fromArchive.train.count).toBe(200);
    expect(fromArchive.test.count).toBe(40);
    expect(fromArchive.train.images).toEqual(fromFolder.train.images);
    expect(fromArchive.test.labels).toEqual(fromFolder.test.labels);
  });

  it('refuses a truncated archive naming the file and the byte offset', async () => {
    const tar = ustar({ 'cifar-10-batches-bin/test_batch.bin': new Uint8Array(3073 * 4) });
    const path = join(root, 'truncated.tar');
    writeFileSync(path, tar.subarray(0, 512 + 5000));
    await expect(readCifar10Archive(path)).rejects.toThrow(DataFormatError);
    await expect(readCifar10Archive(path)).rejects.toThrow(/truncated\.tar.*byte 5512.*truncated inside 'cifar-10-batches-bin\/test_batch\.bin'/);
    const garbage = join(root, 'garbage.tar');
    writeFileSync(garbage, new Uint8Array(1024).fill(7));
    await expect(readCifar10Archive(garbage)).rejects.toThrow(/garbage\.tar.*not a tar archive/);
    const entries = [];
    for await (const entry of readTar(toAsync([ustar({ a: new Uint8Array([1, 2, 3]), b: new Uint8Array(0) })]), 'x')) entries.push([entry.name, entry.size]);
    expect(entries).toEqual([['a', 3], ['b', 0]]);
  });

  /** Serves `body()` at /file; `cut` bytes then a dropped connection on the first request when set; records request headers. */
  async function serve(body: () => Uint8Array, options: { cutFirstAt?: number; ignoreRange?: boolean } = {}) {
    const requests: IncomingHttpHeaders[] = [];
    const server: Server = createServer((request, response) => {
      requests.push(request.headers);
      const bytes = body();
      const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
      if (range && !options.ignoreRange) {
        const start = Number(range[1]);
        response.writeHead(206, { 'content-length': bytes.length - start, 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` });
        response.end(bytes.subarray(start));
        return;
      }
      response.writeHead(200, { 'content-length': bytes.length });
      if (options.cutFirstAt !== undefined && requests.length === 1) {
        response.write(bytes.subarray(0, options.cutFirstAt), () => setTimeout(() => request.socket.destroy(), 50));
        return;
      }
      response.end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/file`, requests, close: () => server.close() };
  }

  it('an interrupted download keeps .part and resumes with an HTTP Range request; the result verifies', async () => {
    const cut = Math.floor(archive.length / 2);
    const server = await serve(() => archive, { cutFirstAt: cut });
    const cacheDir = join(root, 'cache-resume');
    try {
      const events: DownloadEvent[] = [];
      await expect(downloadCifar10({ cacheDir, url: server.url, md5: md5(archive), onEvent: (e) => events.push(e) })).rejects.toThrow(DownloadError);
      const part = join(cacheDir, 'cifar10', 'cifar-10-binary.tar.gz.part');
      expect(statSync(part).size).toBe(cut);
      const path = await downloadCifar10({ cacheDir, url: server.url, md5: md5(archive), onEvent: (e) => events.push(e) });
      expect(server.requests[1].range).toBe(`bytes=${cut}-`);
      expect(events.filter((e) => e.type === 'download-start').map((e) => (e as { resumeFrom: number }).resumeFrom)).toEqual([0, cut]);
      expect(events.at(-1)).toMatchObject({ type: 'download-end', bytes: archive.length, cached: false });
      expect(existsSync(part)).toBe(false);
      expect(md5(readFileSync(path))).toBe(md5(archive));
      expect((await loadCifar10(findCifar10(join(cacheDir, 'cifar10'))!)).test.count).toBe(40);
      // a verified file in the cache is used without a request
      await downloadCifar10({ cacheDir, url: server.url, md5: md5(archive) });
      expect(server.requests).toHaveLength(2);
    } finally {
      server.close();
    }
  });

  it('a server that ignores Range restarts the download from the beginning', async () => {
    const server = await serve(() => archive, { cutFirstAt: 1000, ignoreRange: true });
    const path = join(root, 'restart', 'a.tar.gz');
    try {
      await expect(downloadFile({ url: server.url, path, md5: md5(archive) })).rejects.toThrow(/interrupted|ended after/);
      await downloadFile({ url: server.url, path, md5: md5(archive) });
      expect(md5(readFileSync(path))).toBe(md5(archive));
    } finally {
      server.close();
    }
  });

  it('a complete file with a wrong checksum is refused, kept aside as .bad, and a good cached file is untouched', async () => {
    const wrong = new Uint8Array(archive);
    wrong[100] ^= 1;
    const server = await serve(() => wrong);
    const good = join(root, 'cache-bad', 'cifar10', 'other.bin');
    mkdirSync(join(root, 'cache-bad', 'cifar10'), { recursive: true });
    writeFileSync(good, 'precious');
    const path = join(root, 'cache-bad', 'cifar10', 'cifar-10-binary.tar.gz');
    try {
      const failure = downloadFile({ url: server.url, path, md5: md5(archive) });
      await expect(failure).rejects.toThrow(DownloadError);
      await expect(downloadFile({ url: server.url, path, md5: md5(archive) })).rejects.toThrow(new RegExp(`expected md5 ${md5(archive)}, got ${md5(wrong)}.*kept aside as .*\\.bad`));
      expect(existsSync(path)).toBe(false);
      expect(md5(readFileSync(`${path}.bad`))).toBe(md5(wrong));
      expect(readFileSync(good, 'utf8')).toBe('precious');
    } finally {
      server.close();
    }
  });

  it('an aborted download leaves .part for the next call', async () => {
    const big = new Uint8Array(8 << 20).fill(3);
    const server = await serve(() => big);
    const path = join(root, 'abort', 'big.bin');
    const controller = new AbortController();
    try {
      const pending = downloadFile({ url: server.url, path, md5: md5(big), signal: controller.signal, onEvent: (e) => e.type === 'download-progress' && e.bytes > 0 && controller.abort() });
      await expect(pending).rejects.toThrow(DownloadError);
      expect(existsSync(`${path}.part`)).toBe(true);
      expect(existsSync(path)).toBe(false);
      await downloadFile({ url: server.url, path, md5: md5(big) });
      expect(statSync(path).size).toBe(big.length);
    } finally {
      server.close();
    }
  });
});
