import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { AbortedError, DataFormatError, DownloadError } from '@moco-robust/core';
import { cifarSampleDir } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCifar10, loadCifar10 } from '../cifar10/load-cifar10';
import { CIFAR10_CLASSES } from '../cifar10/parse-cifar10';
import { ChecksumError } from './checksum-error';
import { CIFAR10_SOURCE, CIFAR10C_SOURCE, downloadCifar10, readCifar10Archive } from './datasets';
import { downloadFile, type DownloadEvent } from './download-file';
import { readTar } from './tar';
import { md5, serveBytes, ustar } from './test-helpers/serve-bytes';

const sample = cifarSampleDir();

async function* toAsync(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}
const FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
  'test_batch.bin',
];

describe('the official sources', () => {
  it('name the official URLs and checksums', () => {
    expect(CIFAR10_SOURCE).toEqual({
      url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
      md5: 'c32a1d4ab5d03f1284b67883e8d87530',
      file: 'cifar-10-binary.tar.gz',
    });
    expect(CIFAR10C_SOURCE).toEqual({
      url: 'https://zenodo.org/records/2535967/files/CIFAR-10-C.tar',
      md5: '56bf5dcef84df0e2308c6dcbcbbd8499',
      file: 'CIFAR-10-C.tar',
    });
  });
});

describe.skipIf(!sample)('CIFAR-10 archives and downloads (local http server on 127.0.0.1)', () => {
  let root = '';
  let archive: Uint8Array; // a cifar-10-binary.tar.gz of the real sample's files
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'data-download-'));
    const members: Record<string, Uint8Array> = {
      'cifar-10-batches-bin/batches.meta.txt': new TextEncoder().encode(`${CIFAR10_CLASSES.join('\n')}\n`),
    };
    for (const file of FILES) {
      members[`cifar-10-batches-bin/${file}`] = new Uint8Array(readFileSync(join(sample!, file)));
    }
    archive = gzipSync(ustar(members));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it(
    'reads the official .tar.gz layout streamed, equal to ' +
      'the unpacked folder, and findCifar10 accepts the archive',
    async () => {
      const path = join(root, 'cifar-10-binary.tar.gz');
      writeFileSync(path, archive);
      expect(findCifar10(path)).toBe(path);
      expect(findCifar10(root)).toBe(path);
      const fromArchive = await loadCifar10(path);
      const fromFolder = await loadCifar10(sample!);
      expect(fromArchive.train.count).toBe(5085);
      expect(fromArchive.test.count).toBe(512);
      const same = (a: ArrayBufferView, b: ArrayBufferView) =>
        Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      expect(same(fromArchive.train.images, fromFolder.train.images)).toBe(true);
      expect(same(fromArchive.train.labels, fromFolder.train.labels)).toBe(true);
      expect(same(fromArchive.test.images, fromFolder.test.images)).toBe(true);
      expect(same(fromArchive.test.labels, fromFolder.test.labels)).toBe(true);
      mkdirSync(join(root, 'cifar-10-batches-bin'));
      writeFileSync(join(root, 'cifar-10-batches-bin', 'test_batch.bin'), new Uint8Array(0));
      // an unpacked folder wins over the archive beside it
      expect(findCifar10(root)).toBe(join(root, 'cifar-10-batches-bin'));
      expect(Array.from(fromArchive.test.labels.subarray(0, 5)).map((l) => fromArchive.classes[l])).toEqual([
        'cat',
        'ship',
        'ship',
        'airplane',
        'frog',
      ]);
    },
  );

  it('refuses a truncated or corrupt archive naming the file and the byte offset', async () => {
    const tar = ustar({ 'cifar-10-batches-bin/test_batch.bin': new Uint8Array(3073 * 4) });
    const path = join(root, 'truncated.tar');
    writeFileSync(path, tar.subarray(0, 512 + 5000));
    await expect(readCifar10Archive(path)).rejects.toThrow(DataFormatError);
    await expect(readCifar10Archive(path)).rejects.toThrow(
      /truncated\.tar.*byte 5512.*truncated inside 'cifar-10-batches-bin\/test_batch\.bin'/,
    );
    // a .tar.gz cut short: the gzip offset where the data ends
    const cutGz = join(root, 'cut.tar.gz');
    writeFileSync(cutGz, archive.subarray(0, 20_000));
    await expect(readCifar10Archive(cutGz)).rejects.toThrow(
      /cut\.tar\.gz \(byte 20000\): corrupt or truncated gzip data after \d+ decompressed bytes/,
    );
    // a member whose length is not a whole number of records: the member and the offset inside it
    const short = join(root, 'short-member.tar.gz');
    writeFileSync(short, gzipSync(ustar({ 'cifar-10-batches-bin/data_batch_1.bin': new Uint8Array(3073 * 2 + 10) })));
    await expect(loadCifar10(short)).rejects.toThrow(
      /short-member\.tar\.gz:cifar-10-batches-bin\/data_batch_1\.bin \(byte 6146\): truncated/,
    );
    // an archive without the batches
    const empty = join(root, 'no-batches.tar.gz');
    writeFileSync(empty, gzipSync(ustar({ 'cifar-10-batches-bin/batches.meta.txt': new Uint8Array(3) })));
    await expect(loadCifar10(empty)).rejects.toThrow(
      /no-batches\.tar\.gz: the archive lacks test_batch\.bin, data_batch_1\.bin/,
    );
    const garbage = join(root, 'garbage.tar');
    writeFileSync(garbage, new Uint8Array(1024).fill(7));
    await expect(readCifar10Archive(garbage)).rejects.toThrow(
      /garbage\.tar \(byte 148\): not a tar archive \(or corrupt\): a header field holds "\\u0007/,
    );
    const entries = [];
    for await (const entry of readTar(toAsync([ustar({ a: new Uint8Array([1, 2, 3]), b: new Uint8Array(0) })]), 'x'))
      entries.push([entry.name, entry.size]);
    expect(entries).toEqual([
      ['a', 3],
      ['b', 0],
    ]);
  });

  it('an interrupted download keeps .part and resumes with an HTTP Range request; the result verifies', async () => {
    const cut = Math.floor(archive.length / 2);
    const server = await serveBytes(() => archive, { cutFirstAt: cut });
    const cacheDir = join(root, 'cache-resume');
    try {
      const events: DownloadEvent[] = [];
      await expect(
        downloadCifar10({ cacheDir, url: server.url, md5: md5(archive), onEvent: (e) => events.push(e) }),
      ).rejects.toThrow(DownloadError);
      const part = join(cacheDir, 'cifar10', 'cifar-10-binary.tar.gz.part');
      expect(statSync(part).size).toBe(cut);
      expect(existsSync(join(cacheDir, 'cifar10', 'cifar-10-binary.tar.gz'))).toBe(false);
      const path = await downloadCifar10({
        cacheDir,
        url: server.url,
        md5: md5(archive),
        onEvent: (e) => events.push(e),
      });
      expect(server.requests[0].range).toBeUndefined();
      expect(server.requests[1].range).toBe(`bytes=${cut}-`);
      expect(events.filter((e) => e.type === 'download-start')).toMatchObject([
        { resumeFrom: 0, totalBytes: archive.length },
        { resumeFrom: cut, totalBytes: archive.length },
      ]);
      const progress = events.filter((e) => e.type === 'download-progress');
      expect(progress.every((e) => e.url === server.url && e.totalBytes === archive.length)).toBe(true);
      expect(progress.at(-1)).toMatchObject({ bytes: archive.length });
      expect(events.at(-1)).toMatchObject({ type: 'download-end', bytes: archive.length, cached: false, path });
      expect(existsSync(part)).toBe(false);
      expect(md5(readFileSync(path))).toBe(md5(archive));
      expect((await loadCifar10(findCifar10(join(cacheDir, 'cifar10'))!)).test.count).toBe(512);
      // a verified file in the cache is used without a request
      const again: DownloadEvent[] = [];
      await downloadCifar10({ cacheDir, url: server.url, md5: md5(archive), onEvent: (e) => again.push(e) });
      expect(server.requests).toHaveLength(2);
      expect(again).toMatchObject([{ type: 'download-end', cached: true }]);
    } finally {
      await server.close();
    }
  });

  it(
    'a server that ignores Range (200) restarts the download; a 206 from ' +
      'the wrong byte drops .part; a complete .part (416) is verified',
    async () => {
      const ignoring = await serveBytes(() => archive, { cutFirstAt: 1000, ignoreRange: true });
      const path = join(root, 'restart', 'a.tar.gz');
      try {
        await expect(downloadFile({ url: ignoring.url, path, md5: md5(archive) })).rejects.toThrow(
          /interrupted after 1000 bytes/,
        );
        const starts: DownloadEvent[] = [];
        await downloadFile({
          url: ignoring.url,
          path,
          md5: md5(archive),
          onEvent: (e) => e.type === 'download-start' && starts.push(e),
        });
        expect(ignoring.requests[1].range).toBe('bytes=1000-');
        expect(starts).toMatchObject([{ resumeFrom: 0 }]);
        expect(md5(readFileSync(path))).toBe(md5(archive));
      } finally {
        await ignoring.close();
      }
      const wrongStart = await serveBytes(() => archive, { badRangeStart: 0 });
      const other = join(root, 'restart', 'b.tar.gz');
      try {
        writeFileSync(`${other}.part`, archive.subarray(0, 700));
        await expect(downloadFile({ url: wrongStart.url, path: other, md5: md5(archive) })).rejects.toThrow(
          /asked for bytes 700- but the server sent Content-Range 'bytes 0-/,
        );
        expect(existsSync(`${other}.part`)).toBe(false);
        await downloadFile({ url: wrongStart.url, path: other, md5: md5(archive) });
        expect(md5(readFileSync(other))).toBe(md5(archive));
      } finally {
        await wrongStart.close();
      }
      const complete = await serveBytes(() => archive);
      const third = join(root, 'restart', 'c.tar.gz');
      try {
        writeFileSync(`${third}.part`, archive);
        await downloadFile({ url: complete.url, path: third, md5: md5(archive) });
        expect(complete.requests[0].range).toBe(`bytes=${archive.length}-`);
        expect(md5(readFileSync(third))).toBe(md5(archive));
      } finally {
        await complete.close();
      }
    },
  );

  it(
    'a complete file with a wrong checksum is refused (ChecksumError naming ' +
      'both) and kept aside as .bad; good files in the cache are untouched',
    async () => {
      const wrong = new Uint8Array(archive);
      wrong[100] ^= 1;
      const good = await serveBytes(() => archive);
      const bad = await serveBytes(() => wrong);
      const cacheDir = join(root, 'cache-bad');
      const other = join(cacheDir, 'cifar10c', 'CIFAR-10-C.tar');
      mkdirSync(join(cacheDir, 'cifar10c'), { recursive: true });
      writeFileSync(other, 'precious');
      try {
        // a verified archive in the cache: a bad mirror is never asked and the file stays as it was
        const path = await downloadCifar10({ cacheDir, url: good.url, md5: md5(archive) });
        const before = statSync(path).mtimeMs;
        expect(await downloadCifar10({ cacheDir, url: bad.url, md5: md5(archive) })).toBe(path);
        expect(bad.requests).toHaveLength(0);
        // a fresh download of wrong bytes
        const fresh = join(cacheDir, 'elsewhere', 'cifar-10-binary.tar.gz');
        const failure = await downloadFile({ url: bad.url, path: fresh, md5: md5(archive) }).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(DownloadError);
        expect(ChecksumError.isChecksumError(failure)).toBe(true);
        expect(failure).toMatchObject({
          code: 'download',
          algorithm: 'md5',
          expected: md5(archive),
          actual: md5(wrong),
          path: fresh,
          badPath: `${fresh}.bad`,
        });
        expect((failure as Error).message).toMatch(
          new RegExp(
            `checksum mismatch: expected md5 ${md5(archive)}, got ${md5(wrong)}; the file is kept aside as .*\\.bad`,
          ),
        );
        expect(existsSync(fresh)).toBe(false);
        expect(existsSync(`${fresh}.part`)).toBe(false);
        expect(md5(readFileSync(`${fresh}.bad`))).toBe(md5(wrong));
        // a stale file at the final path that does not verify is left as it was, not replaced by refused bytes
        const stale = join(cacheDir, 'stale', 'x.bin');
        mkdirSync(join(cacheDir, 'stale'));
        writeFileSync(stale, 'old');
        await expect(downloadFile({ url: bad.url, path: stale, md5: md5(archive) })).rejects.toThrow(ChecksumError);
        expect(readFileSync(stale, 'utf8')).toBe('old');
        expect(statSync(path).mtimeMs).toBe(before);
        expect(md5(readFileSync(path))).toBe(md5(archive));
        expect(readFileSync(other, 'utf8')).toBe('precious');
      } finally {
        await good.close();
        await bad.close();
      }
    },
  );

  it('an aborted download throws AbortedError and leaves .part for the next call', async () => {
    const big = new Uint8Array(8 << 20).fill(3);
    const server = await serveBytes(() => big);
    const path = join(root, 'abort', 'big.bin');
    const controller = new AbortController();
    try {
      const pending = downloadFile({
        url: server.url,
        path,
        md5: md5(big),
        signal: controller.signal,
        onEvent: (e) => e.type === 'download-progress' && e.bytes > 0 && controller.abort(),
      });
      await expect(pending).rejects.toThrow(AbortedError);
      await expect(pending).rejects.toThrow(/aborted after \d+ bytes of 8388608; .*big\.bin\.part is kept/);
      expect(statSync(`${path}.part`).size).toBeGreaterThan(0);
      expect(existsSync(path)).toBe(false);
      await downloadFile({ url: server.url, path, md5: md5(big) });
      expect(server.requests[1].range).toMatch(/^bytes=[1-9]\d*-$/);
      expect(statSync(path).size).toBe(big.length);
      expect(md5(readFileSync(path))).toBe(md5(big));
    } finally {
      await server.close();
    }
  });
});
