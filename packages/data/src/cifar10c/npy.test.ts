import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCifar10C } from './cifar10c-loader';
import { createCifar10CWriter, writeCifar10C } from './cifar10c-writer';
import { corruptImages } from './registry';
import { npyHeaderBytes, parseNpyHeader, readNpy, writeNpy } from './npy';

describe('npy', () => {
  it('round-trips uint8, int32 and int64 arrays with a 64-byte aligned version 1.0 header', () => {
    const bytes = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256);
    const encoded = writeNpy({ dtype: 'uint8', shape: [2, 3, 4], data: bytes });
    expect(encoded.length % 64).toBe(bytes.length % 64);
    expect(parseNpyHeader(encoded, 'x').dataOffset % 64).toBe(0);
    expect(readNpy(encoded)).toEqual({ dtype: 'uint8', shape: [2, 3, 4], data: bytes });
    for (const dtype of ['int32', 'int64'] as const) {
      const labels = Int32Array.from([0, 9, 3, -1, 2147483647]);
      const decoded = readNpy(writeNpy({ dtype, shape: [5], data: labels }));
      expect(decoded.dtype).toBe(dtype);
      expect(decoded.shape).toEqual([5]);
      expect(decoded.data).toEqual(labels);
    }
    expect(readNpy(writeNpy({ dtype: 'uint8', shape: [], data: [7] }))).toMatchObject({
      shape: [],
      data: Uint8Array.of(7),
    });
  });

  it('reads the header as NumPy writes it (version 2.0 length field too)', () => {
    const text = `${"{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }".padEnd(117, ' ')}\n`;
    const bytes = new Uint8Array(12 + text.length + 3);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    new DataView(bytes.buffer).setUint32(8, text.length, true);
    for (let i = 0; i < text.length; i++) bytes[12 + i] = text.charCodeAt(i);
    bytes.set([1, 2, 3], 12 + text.length);
    expect(readNpy(bytes)).toEqual({ dtype: 'uint8', shape: [3], data: Uint8Array.of(1, 2, 3) });
  });

  it('names the file and the offset on bad headers and truncated data', () => {
    const good = writeNpy({ dtype: 'uint8', shape: [4], data: [1, 2, 3, 4] });
    expect(() => readNpy(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 'a.npy')).toThrow(
      /a\.npy \(byte 0\): not a \.npy file/,
    );
    expect(() => readNpy(good.subarray(0, good.length - 1), 'b.npy')).toThrow(/b\.npy \(byte 131\): truncated/);
    const edit = (from: string, to: string) =>
      Uint8Array.from(String.fromCharCode(...good).replace(from, to), (c) => c.charCodeAt(0));
    expect(() => readNpy(edit("'|u1'", "'<f4'"), 'c.npy')).toThrow(
      /c\.npy \(byte 10\): unsupported element type '<f4'/,
    );
    expect(() => readNpy(edit('False', 'True '), 'd.npy')).toThrow(/Fortran-order/);
    expect(() => readNpy(edit('(4,)', '(x,)'), 'e.npy')).toThrow(/malformed shape/);
    expect(() => readNpy(writeNpy({ dtype: 'int64', shape: [1], data: [2 ** 40] }), 'f.npy')).toThrow(
      /f\.npy \(byte 128\): int64 element 0/,
    );
    expect(() => npyHeaderBytes('uint8', [-1])).toThrow(/'shape'/);
  });
});

describe('CIFAR-10-C release layout', () => {
  let dir: string;
  const count = 3;
  const images = Uint8Array.from({ length: count * 3072 }, (_, i) => (i * 13) % 256);
  const labels = [4, 0, 9];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cifar10c-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'writes <corruption>.npy [5N, 32, 32, 3] + labels.npy ' + 'and loads back exactly the requested severity block',
    async () => {
      const blocks = [...corruptImages(images, count, { seed: 5, corruptions: ['contrast', 'fog'] })];
      await writeCifar10C(dir, labels, blocks);
      const whole = readNpy(new Uint8Array(await readFile(join(dir, 'fog.npy'))));
      expect(whole.shape).toEqual([15, 32, 32, 3]);
      expect(readNpy(new Uint8Array(await readFile(join(dir, 'labels.npy'))))).toMatchObject({
        dtype: 'uint8',
        shape: [15],
      });
      for (const block of blocks) {
        const loaded = await loadCifar10C(dir, block.corruption, block.severity);
        expect(loaded.count).toBe(count);
        expect(loaded.images).toEqual(block.images);
        expect(Array.from(loaded.labels)).toEqual(labels);
      }
    },
  );

  it('keeps an incomplete corruption as .npy.part and says which severities are missing', async () => {
    const writer = await createCifar10CWriter(dir, labels);
    await writer.write({ corruption: 'saturate', severity: 2, images: new Uint8Array(count * 3072) });
    await expect(writer.close()).rejects.toThrow(/saturate \(severities 1, 3, 4, 5 incomplete\)/);
    await expect(loadCifar10C(dir, 'saturate', 2)).rejects.toThrow(/saturate\.npy: cannot open/);
  });

  it('writes blocks of a few images in any order to the same bytes; refuses overlaps and stray blocks', async () => {
    const whole = [...corruptImages(images, count, { seed: 9, corruptions: ['spatter'], severities: [2, 4] })];
    const parts = [
      ...corruptImages(images, count, { seed: 9, corruptions: ['spatter'], severities: [2, 4], blockImages: 2 }),
    ];
    expect(parts.map((p) => p.firstImage)).toEqual([0, 2, 0, 2]);
    const [a, b] = [join(dir, 'whole'), join(dir, 'parts')];
    await writeCifar10C(a, labels, whole, { severities: [2, 4] });
    const writer = await createCifar10CWriter(b, labels, { severities: [2, 4] });
    for (const k of [3, 0, 2]) await writer.write(parts[k]);
    await expect(writer.write({ ...parts[0], images: parts[0].images.subarray(3072) })).rejects.toThrow(
      /spatter severity 2, images 0–0 again/,
    );
    await expect(writer.write({ ...parts[1], severity: 5 })).rejects.toThrow(/block\.severity.*2, 4/);
    await expect(writer.write({ ...parts[1], firstImage: 2, images: new Uint8Array(2 * 3072) })).rejects.toThrow(
      /block\.images/,
    );
    expect(existsSync(join(b, 'spatter.npy'))).toBe(false); // severity 2's last image is still missing
    await writer.write(parts[1]);
    await writer.close();
    expect((await readFile(join(b, 'spatter.npy'))).equals(await readFile(join(a, 'spatter.npy')))).toBe(true);
    expect(readNpy(new Uint8Array(await readFile(join(b, 'labels.npy')))).shape).toEqual([2 * count]);
    await expect(createCifar10CWriter(b, labels, { severities: [2, 2] })).rejects.toThrow(/options\.severities/);
  });

  it('reports truncated files and bad shapes with the file name and byte offset', async () => {
    const blocks = [...corruptImages(images, count, { seed: 5, corruptions: ['brightness'] })];
    await writeCifar10C(dir, labels, blocks);
    const path = join(dir, 'brightness.npy');
    await truncate(path, 128 + 5 * count * 3072 - 10);
    await expect(loadCifar10C(dir, 'brightness', 1)).rejects.toMatchObject({
      name: 'DataFormatError',
      offset: 128 + 5 * count * 3072 - 10,
    });
    await writeFile(path, writeNpy({ dtype: 'uint8', shape: [4, 32, 32, 3], data: new Uint8Array(4 * 3072) }));
    await expect(loadCifar10C(dir, 'brightness', 1)).rejects.toThrow(
      /brightness\.npy \(byte 0\): expected uint8 images of shape \(5N, 32, 32, 3\)/,
    );
  });
});
