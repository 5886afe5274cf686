import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from './decode-png';
import { fetchFrostTextures, FROST_TEXTURE_SOURCES } from './fetch-frost-textures';
import type { FetchFrostTexturesEvent } from './fetch-frost-textures';
import { loadFrostTextures } from './frost-textures';
import { encodePng } from './test-helpers/encode-png';

/** An image whose every value says where it is: channel c at (y, x) is (y·7 + x·3 + c·50) mod 256. */
function patterned(width: number, height: number, channels: number): Uint8Array {
  return Uint8Array.from({ length: width * height * channels }, (_, i) => {
    const c = i % channels,
      p = (i - c) / channels;
    return (Math.floor(p / width) * 7 + (p % width) * 3 + c * 50) % 256;
  });
}

/** A smooth RGB image (red = column, green = row), which survives JPEG within a few levels. */
function gradient(width: number, height: number): Uint8Array {
  return Uint8Array.from(
    { length: width * height * 3 },
    (_, i) => [(i / 3) % width, Math.floor(i / 3 / width), 128][i % 3] % 256,
  );
}

async function encodeJpeg(rgb: Uint8Array, width: number, height: number, progressive: boolean): Promise<Uint8Array> {
  const require = createRequire(import.meta.url);
  const codec = await import('@jsquash/jpeg/encode.js');
  await (codec.init as unknown as (module: WebAssembly.Module) => Promise<void>)(
    await WebAssembly.compile(readFileSync(require.resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm'))),
  );
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  for (let p = 0; p < width * height; p++) data.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
  const encode = codec.default as unknown as (
    image: { data: Uint8ClampedArray; width: number; height: number },
    options: object,
  ) => Promise<ArrayBuffer>;
  return new Uint8Array(
    await encode({ data, width, height }, { quality: 100, chroma_subsample: 1, progressive, baseline: !progressive }),
  );
}

/** The source images served for frost1–5: PNGs in three colour types, a progressive and a baseline JPEG. */
const SOURCES = {
  'frost1.png': { width: 527, height: 170, channels: 4 as const },
  'frost2.png': { width: 170, height: 180, channels: 3 as const },
  'frost3.png': { width: 200, height: 166, channels: 1 as const },
  'frost4.jpg': { width: 190, height: 175, progressive: true },
  'frost5.jpg': { width: 175, height: 200, progressive: false },
};

describe('fetchFrostTextures from a local server', () => {
  const files = new Map<string, Uint8Array>();
  const originals = new Map<string, Uint8Array>();
  let requests: string[] = [];
  let baseUrl = '';
  let workDir = '';
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const body = files.get((request.url ?? '').replace(/^\/assets\//, ''));
    response.statusCode = body === undefined ? 404 : 200;
    response.end(body);
  });

  beforeAll(async () => {
    for (const [file, source] of Object.entries(SOURCES)) {
      if ('channels' in source) {
        const pixels = patterned(source.width, source.height, source.channels);
        originals.set(file, pixels);
        files.set(file, encodePng(pixels, source.width, source.height, source.channels));
      } else {
        const pixels = gradient(source.width, source.height);
        originals.set(file, pixels);
        files.set(file, await encodeJpeg(pixels, source.width, source.height, source.progressive));
      }
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/assets/`;
    workDir = await mkdtemp(join(tmpdir(), 'frost-'));
  });
  afterAll(async () => {
    server.close();
    await rm(workDir, { recursive: true, force: true });
  });
  const checksums = () =>
    Object.fromEntries([...files].map(([file, bytes]) => [file, createHash('sha256').update(bytes).digest('hex')]));

  it('downloads, checks, decodes and down-scales frost1–5 into the folder loadFrostTextures reads', async () => {
    const cacheDir = join(workDir, 'textures');
    const events: FetchFrostTexturesEvent[] = [];
    requests = [];
    const textures = await fetchFrostTextures({
      cacheDir,
      baseUrl,
      checksums: checksums(),
      onEvent: (e) => events.push(e),
    });
    expect(requests).toEqual(FROST_TEXTURE_SOURCES.map((s) => `/assets/${s.file}`));
    expect(events.filter((e) => e.type === 'download-end').map((e) => 'path' in e && basename(e.path))).toEqual(
      FROST_TEXTURE_SOURCES.map((s) => s.file),
    );
    expect(events.at(-1)).toEqual({ type: 'frost-textures-ready', dir: cacheDir, written: 5 });
    expect(readFileSync(join(cacheDir, 'sources', 'frost4.jpg'))).toEqual(Buffer.from(files.get('frost4.jpg')!));
    expect(await loadFrostTextures(cacheDir)).toEqual(textures);
    // round(0.2·side): 527 → 105, 170 → 34, 166 → 33
    expect(textures.map((t) => [t.height, t.width])).toEqual([
      [34, 105],
      [36, 34],
      [33, 40],
      [35, 38],
      [40, 35],
    ]);
    const index = JSON.parse(readFileSync(join(cacheDir, 'index.json'), 'utf8'));
    expect(index['frost1.rgb']).toMatchObject({
      frost_index: 0,
      source_file: 'frost1.png',
      source_size_hw: [170, 527],
      source_sha256: checksums()['frost1.png'],
    });
    // PNGs: exactly the pixels (5i + 2, 5j + 2), RGB, alpha dropped, grey repeated
    for (const [position, file] of ['frost1.png', 'frost2.png', 'frost3.png'].entries()) {
      const { width, channels } = SOURCES[file as 'frost1.png'];
      const source = originals.get(file)!;
      const { height: h, width: w, pixels } = textures[position];
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++)
          for (let c = 0; c < 3; c++) {
            expect(pixels[(i * w + j) * 3 + c]).toBe(
              source[((5 * i + 2) * width + 5 * j + 2) * channels + (channels >= 3 ? c : 0)],
            );
          }
    }
    // JPEGs (lossy): within a few levels of the source at (5i + 2, 5j + 2), and closer there than at (5i, 5j)
    for (const [position, file] of [
      [3, 'frost4.jpg'],
      [4, 'frost5.jpg'],
    ] as const) {
      const { width } = SOURCES[file];
      const source = originals.get(file)!;
      const { height: h, width: w, pixels } = textures[position];
      let error = 0,
        shiftedError = 0;
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++)
          for (let c = 0; c < 3; c++) {
            const v = pixels[(i * w + j) * 3 + c];
            expect(Math.abs(v - source[((5 * i + 2) * width + 5 * j + 2) * 3 + c])).toBeLessThanOrEqual(4);
            error += Math.abs(v - source[((5 * i + 2) * width + 5 * j + 2) * 3 + c]);
            shiftedError += Math.abs(v - source[(5 * i * width + 5 * j) * 3 + c]);
          }
      expect(error / (h * w * 3)).toBeLessThan(1);
      expect(shiftedError).toBeGreaterThan(error);
    }
  });

  it('uses a complete folder as it is, without a request', async () => {
    const cacheDir = join(workDir, 'textures');
    const events: FetchFrostTexturesEvent[] = [];
    requests = [];
    const textures = await fetchFrostTextures({
      cacheDir,
      baseUrl: 'http://127.0.0.1:9/never/',
      onEvent: (e) => events.push(e),
    });
    expect(textures).toHaveLength(5);
    expect(requests).toEqual([]);
    expect(events).toEqual([{ type: 'frost-textures-ready', dir: cacheDir, written: 0 }]);
  });

  it(
    'refuses a checksum mismatch (the upstream checksums by default) ' +
      'and an HTTP error with DownloadError, writing no index',
    async () => {
      const cacheDir = join(workDir, 'refused');
      await expect(fetchFrostTextures({ cacheDir, baseUrl })).rejects.toMatchObject({
        code: 'download',
        message: expect.stringMatching(/frost1\.png: checksum mismatch: expected sha256 ff9f9078/),
      });
      expect(existsSync(join(cacheDir, 'sources', 'frost1.png.bad'))).toBe(true);
      await expect(
        fetchFrostTextures({ cacheDir, baseUrl: `${baseUrl}missing/`, checksums: checksums() }),
      ).rejects.toMatchObject({ code: 'download', message: expect.stringMatching(/HTTP 404/) });
      expect(existsSync(join(cacheDir, 'index.json'))).toBe(false);
    },
  );

  it('names the file of an image it cannot read', async () => {
    files.set('frost1.png', new Uint8Array([137, 80, 78, 71, 1, 2, 3]));
    await expect(
      fetchFrostTextures({ cacheDir: join(workDir, 'bad'), baseUrl, checksums: checksums() }),
    ).rejects.toMatchObject({ code: 'data-format', message: expect.stringMatching(/frost1\.png.*signature/) });
  });
});

describe('decodePng', () => {
  it('reverses every filter type in every colour type it supports', () => {
    for (const channels of [1, 2, 3, 4] as const) {
      const pixels = patterned(23, 11, channels);
      expect(decodePng(encodePng(pixels, 23, 11, channels), 'x.png')).toEqual({
        width: 23,
        height: 11,
        channels,
        pixels,
      });
    }
  });
  it('rejects palette and 16-bit PNGs and truncated files by name', () => {
    const png = encodePng(patterned(4, 4, 3), 4, 4, 3);
    const palette = Buffer.from(png);
    palette[25] = 3; // colour type byte of IHDR
    expect(() => decodePng(palette, 'p.png')).toThrow(/p\.png.*colour type 3/);
    expect(() => decodePng(png.subarray(0, 40), 't.png')).toThrow(/t\.png/);
  });
});
