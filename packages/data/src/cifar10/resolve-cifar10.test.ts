import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InvalidArgumentError } from '@moco-robust/core';
import { cifarSampleDir } from '@moco-robust/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { md5, serveBytes, ustar } from '../download/test-helpers/serve-bytes';
import { loadCifar10 } from './load-cifar10';
import { CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES } from './parse-cifar10';
import { resolveCifar10 } from './resolve-cifar10';

const sample = cifarSampleDir();

describe.skipIf(!sample)('resolveCifar10: a local copy, else the cache, else a download when allowed', () => {
  let root = '';
  let archive: Uint8Array; // the first 20 records of each sample file, as the official .tar.gz
  const saved = { data: process.env.MOCO_ROBUST_DATA, cache: process.env.MOCO_ROBUST_CACHE };
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'data-resolve-'));
    const members: Record<string, Uint8Array> = {};
    for (const file of [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE])
      members[`cifar-10-batches-bin/${file}`] = new Uint8Array(
        readFileSync(join(sample!, file)).subarray(0, 20 * 3073),
      );
    archive = gzipSync(ustar(members));
  });
  beforeEach(() => {
    delete process.env.MOCO_ROBUST_DATA;
    process.env.MOCO_ROBUST_CACHE = join(root, 'env-cache');
  });
  afterEach(() => {
    for (const [name, value] of [
      ['MOCO_ROBUST_DATA', saved.data],
      ['MOCO_ROBUST_CACHE', saved.cache],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it(
    'uses the local copy (option, then MOCO_ROBUST_DATA): ' + 'a folder of .bin files, its parent, or the .tar.gz',
    async () => {
      expect(await resolveCifar10({ data: sample! })).toEqual({ path: sample, origin: 'data' });
      expect(await resolveCifar10({ data: join(sample!, '..') })).toEqual({ path: sample, origin: 'data' });
      const tgz = join(root, 'local', 'cifar-10-binary.tar.gz');
      mkdirSync(join(root, 'local'));
      writeFileSync(tgz, archive);
      expect(await resolveCifar10({ data: tgz, download: true })).toEqual({ path: tgz, origin: 'data' });
      expect(await resolveCifar10({ data: join(root, 'local') })).toEqual({ path: tgz, origin: 'data' });
      process.env.MOCO_ROBUST_DATA = sample!;
      expect(await resolveCifar10()).toEqual({ path: sample, origin: 'environment' });
      expect(await resolveCifar10({ data: tgz })).toEqual({ path: tgz, origin: 'data' }); // the option wins
      process.env.MOCO_ROBUST_DATA = join(root, 'nothing-here');
      await expect(resolveCifar10({ download: true })).rejects.toThrow(
        /Invalid argument 'MOCO_ROBUST_DATA'.*nothing-here/,
      );
      await expect(resolveCifar10({ data: join(root, 'nothing-here') })).rejects.toThrow(InvalidArgumentError);
    },
  );

  it('downloads into the cache only when allowed, then finds it there without a request', async () => {
    const server = await serveBytes(() => archive);
    const cacheDir = join(root, 'cache');
    try {
      await expect(resolveCifar10({ cacheDir, url: server.url, md5: md5(archive) })).rejects.toThrow(
        /Nothing in the cache .*cache[/\\]cifar10 either: .*download: true/,
      );
      expect(server.requests).toHaveLength(0);
      const downloaded = await resolveCifar10({ cacheDir, url: server.url, md5: md5(archive), download: true });
      expect(downloaded).toEqual({ path: join(cacheDir, 'cifar10', 'cifar-10-binary.tar.gz'), origin: 'download' });
      expect(await resolveCifar10({ cacheDir, download: true })).toEqual({ path: downloaded.path, origin: 'cache' });
      expect(server.requests).toHaveLength(1);
      const data = await loadCifar10(downloaded.path);
      expect([data.train.count, data.test.count]).toEqual([100, 20]);
      expect(data.classes[data.test.labels[0]]).toBe('cat');
      // MOCO_ROBUST_CACHE is the default cache
      process.env.MOCO_ROBUST_CACHE = cacheDir;
      expect(await resolveCifar10()).toEqual({ path: downloaded.path, origin: 'cache' });
    } finally {
      await server.close();
    }
  });
});
