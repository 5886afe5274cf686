// The worker script runs in plain Node, so these tests run the built package (dist/): build it
// first with `npx turbo run build --filter=@moco-robust/data`.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MocoRobustError } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as DataNode from '../index.node';
import type { CorruptionName, FrostTexture } from './corruption';
import type { CorruptImagesParallelEvent } from './corrupt-images-parallel';
import { cleanReferenceImages, referenceFrostTextures } from './test-helpers/reference';

const dist = join(dirname(fileURLToPath(import.meta.url)), '../../dist');
const clean = cleanReferenceImages();
const COUNT = 7;

let data: typeof DataNode;
beforeAll(async () => {
  if (!existsSync(join(dist, 'corrupt-images-worker.js'))) {
    throw new Error(
      `${dist}/corrupt-images-worker.js is missing: build the ` +
        `package first (npx turbo run build --filter=@moco-robust/data)`,
    );
  }
  data = (await import(pathToFileURL(join(dist, 'index.node.js')).href)) as typeof DataNode;
});

async function collect<T>(blocks: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const block of blocks) out.push(block);
  return out;
}

describe.skipIf(clean === undefined)('corruptImagesParallel on real CIFAR-10 images', () => {
  const images = new Uint8Array(COUNT * 3072);
  clean?.images.slice(10, 10 + COUNT).forEach((image, i) => images.set(image, i * 3072));
  let frostTextures: FrostTexture[] | undefined;
  beforeAll(async () => {
    frostTextures = await referenceFrostTextures();
  });

  for (const workers of [2, 3]) {
    it(`with ${workers} workers gives the single-threaded generator's blocks, in order, byte for byte`, async () => {
      const corruptions: CorruptionName[] = ['gaussian_noise', 'glass_blur', 'zoom_blur', 'frost', 'spatter'];
      const options = { seed: 12, corruptions, severities: [2, 5] as const, firstIndex: 40, frostTextures };
      const events: CorruptImagesParallelEvent[] = [];
      const parallel = await collect(
        data.corruptImagesParallel(images, COUNT, { ...options, workers, onEvent: (e) => events.push(e) }),
      );
      const single = [...data.corruptImages(images, COUNT, options)];
      expect(parallel.map((b) => `${b.corruption}/${b.severity}`)).toEqual(
        single.map((b) => `${b.corruption}/${b.severity}`),
      );
      expect(parallel).toHaveLength(frostTextures === undefined ? 8 : 10);
      for (let k = 0; k < single.length; k++)
        expect(parallel[k].images, parallel[k].corruption).toEqual(single[k].images);
      expect(events[0]).toEqual({ type: 'corruption-workers-started', workers });
      expect(events.filter((e) => e.type === 'corruption-end')).toHaveLength(parallel.length);
      expect(events.at(-1)).toEqual({ type: 'corruption-workers-stopped', workers, reason: 'finished' });
    });
  }

  it('with blockImages passes on blocks of ≤ blockImages images in turn, writing the same files', async () => {
    const options = {
      seed: 3,
      corruptions: ['shot_noise', 'pixelate'] as CorruptionName[],
      severities: [1, 3] as const,
    };
    const single = [...data.corruptImages(images, COUNT, options)];
    const blocks = await collect(data.corruptImagesParallel(images, COUNT, { ...options, workers: 2, blockImages: 2 }));
    // slices of 4 and 3 images (starting at 0 and 4): blocks 2 + 2 and 2 + 1, taken in turn
    expect(blocks.slice(0, 4).map((b) => [b.firstImage, b.images.length / 3072])).toEqual([
      [0, 2],
      [4, 2],
      [2, 2],
      [6, 1],
    ]);
    expect(blocks).toHaveLength(4 * single.length);
    const dirs = await Promise.all([1, 2].map(() => mkdtemp(join(tmpdir(), 'cifar10c-blocks-'))));
    try {
      const labels = Array.from({ length: COUNT }, (_, i) => i % 10);
      await data.writeCifar10C(dirs[0], labels, blocks, { severities: [1, 3] });
      await data.writeCifar10C(dirs[1], labels, single, { severities: [1, 3] });
      for (const file of ['shot_noise.npy', 'pixelate.npy', 'labels.npy'])
        expect((await readFile(join(dirs[0], file))).equals(await readFile(join(dirs[1], file))), file).toBe(true);
    } finally {
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    }
  });

  it('terminates its workers when the consumer stops early', async () => {
    const events: CorruptImagesParallelEvent[] = [];
    for await (const block of data.corruptImagesParallel(images, COUNT, {
      seed: 1,
      workers: 2,
      corruptions: ['zoom_blur', 'snow'],
      onEvent: (e) => events.push(e),
    })) {
      expect(block.corruption).toBe('zoom_blur');
      break;
    }
    expect(events.at(-1)).toEqual({ type: 'corruption-workers-stopped', workers: 2, reason: 'stopped-early' });
  });

  it("rethrows a worker's error with its code and terminates the other workers", async () => {
    const broken = Array.from({ length: 5 }, () => ({ height: 40, width: 40, pixels: new Uint8Array(10) }));
    const events: CorruptImagesParallelEvent[] = [];
    const run = collect(
      data.corruptImagesParallel(images, COUNT, {
        seed: 1,
        workers: 2,
        corruptions: ['brightness', 'frost'],
        frostTextures: broken,
        onEvent: (e) => events.push(e),
      }),
    );
    const error = await run.catch((e: unknown) => e);
    expect(MocoRobustError.isInstance(error) && error.code).toBe('invalid-argument');
    expect(String((error as Error).message)).toMatch(/corruption worker \d\/2.*frostTextures\[\d\]/);
    expect(events.at(-1)).toEqual({ type: 'corruption-workers-stopped', workers: 2, reason: 'error' });
  });
});

describe('corruptImagesParallel without real images', () => {
  const images = Uint8Array.from({ length: 3 * 3072 }, (_, i) => (i * 31) % 256);

  it('skips frost without textures in order (event) or throws the typed error at its turn', async () => {
    const events: CorruptImagesParallelEvent[] = [];
    const blocks = await collect(
      data.corruptImagesParallel(images, 3, {
        seed: 0,
        corruptions: ['frost', 'contrast'],
        severities: [1],
        workers: 2,
        onEvent: (e) => events.push(e),
      }),
    );
    expect(blocks.map((b) => b.corruption)).toEqual(['contrast']);
    expect(events.map((e) => e.type)).toEqual([
      'corruption-workers-started',
      'corruption-skipped',
      'corruption-end',
      'corruption-workers-stopped',
    ]);
    const failing = collect(
      data.corruptImagesParallel(images, 3, { seed: 0, corruptions: ['frost'], onMissingFrostTextures: 'error' }),
    );
    await expect(failing).rejects.toMatchObject({ code: 'missing-frost-textures' });
  });

  it('rejects bad arguments by name before starting workers, and yields empty blocks for no images', async () => {
    await expect(collect(data.corruptImagesParallel(images, 3, { seed: 0, workers: 0 }))).rejects.toThrow(/'workers'/);
    await expect(collect(data.corruptImagesParallel(images, 4, { seed: 0 }))).rejects.toThrow(/'images'/);
    await expect(collect(data.corruptImagesParallel(images, 3, { seed: -1 }))).rejects.toThrow(/'seed'/);
    const empty = await collect(
      data.corruptImagesParallel(new Uint8Array(0), 0, { seed: 0, corruptions: ['fog'], severities: [1, 2] }),
    );
    expect(empty.map((b) => b.images.length)).toEqual([0, 0]);
  });
});
