import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifarSampleDir, sharedPath } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliAsync } from './run-cli';

const sample = cifarSampleDir();
const frostSmall = sharedPath('reference', 'cifar10c', 'frost_small');

describe('frost textures: data download --frost and the cache', () => {
  let root = '';
  let server: Server;
  let mirror = '';
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mr-frost-'));
    // a mirror serving files that are not the originals: the SHA-256 check must refuse them
    server = createServer((_request, response) => response.end('not the frost image'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    mirror = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  });
  afterAll(() => {
    server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses textures whose checksum is wrong, keeping them as .bad', async () => {
    const cache = join(root, 'bad-cache');
    const result = await runCliAsync(['data', 'download', '--frost', '--frost-url', mirror, '--cache', cache], {});
    expect(result.status, result.stderr).not.toBe(0);
    expect(result.stderr).toMatch(/frost1\.png/);
    expect(readdirSync(join(cache, 'frost', 'sources'))).toContain('frost1.png.bad');
    expect(existsSync(join(cache, 'frost', 'index.json'))).toBe(false);
  });

  it.skipIf(!sample || !frostSmall)(
    'corrupt finds the textures in the cache, and skips frost without them',
    async () => {
      const withCache = join(root, 'cache');
      mkdirSync(withCache);
      cpSync(frostSmall!, join(withCache, 'frost'), { recursive: true });
      const args = (out: string) => ['corrupt', '--images', '4', '--corruptions', 'frost', '--out', out, '--json'];
      const env = { MOCO_ROBUST_DATA: sample, MOCO_ROBUST_FROST: '' };
      const used = await runCliAsync(args(join(root, 'with')), { ...env, MOCO_ROBUST_CACHE: withCache });
      expect(used.status, used.stderr).toBe(0);
      expect(readdirSync(join(root, 'with')).sort()).toEqual(['frost.npy', 'labels.npy']);
      const skipped = await runCliAsync(args(join(root, 'without')), {
        ...env,
        MOCO_ROBUST_CACHE: join(root, 'empty'),
      });
      expect(skipped.status, skipped.stderr).toBe(0);
      expect(skipped.stderr).toMatch(/skipped frost/);
    },
  );
});
