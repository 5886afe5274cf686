import { mkdtemp, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFormatError } from '@moco-robust/core';
import { cifarSampleDir } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { findCifar10, loadCifar10 } from './load-cifar10';
import { CIFAR10_CLASSES, CIFAR10_TRAIN_FILES, parseCifar10 } from './parse-cifar10';

const sample = cifarSampleDir();

describe.skipIf(!sample)('CIFAR-10 on the real sample', () => {
  it('reads every record with the right labels and pixels', async () => {
    const folder = findCifar10(join(sample!, '..'))!;
    expect(folder).toBe(sample);
    const data = await loadCifar10(folder);
    expect(data.train.count).toBe(5085);
    expect(data.test.count).toBe(512);
    expect(data.classes).toBe(CIFAR10_CLASSES);
    expect(Array.from(data.test.labels.subarray(0, 5)).map((l) => data.classes[l])).toEqual([
      'cat',
      'ship',
      'ship',
      'airplane',
      'frog',
    ]);
    // pixel spot checks against the raw bytes: record r, pixel p, channel c is at 1 + c·1024 + p
    const raw = readFileSync(join(sample!, 'test_batch.bin'));
    for (const [r, p, c] of [
      [0, 0, 0],
      [0, 1023, 2],
      [3, 517, 1],
      [511, 100, 0],
    ]) {
      expect(data.test.images[r * 3072 + p * 3 + c]).toBe(raw[r * 3073 + 1 + c * 1024 + p]);
    }
    const histogram = new Array(10).fill(0);
    data.train.labels.forEach((l) => histogram[l]++);
    expect(histogram.every((n) => n > 400)).toBe(true);
  });
});

describe('parseCifar10', () => {
  it('accepts files of any record count, including 0', () => {
    expect(parseCifar10(new Uint8Array(0), 'empty.bin').count).toBe(0);
    const two = new Uint8Array(2 * 3073);
    two[3073] = 9;
    two[3073 + 1 + 2048] = 200; // record 1, B plane, pixel 0
    const parsed = parseCifar10(two, 'two.bin');
    expect(Array.from(parsed.labels)).toEqual([0, 9]);
    expect(parsed.images[3072 + 2]).toBe(200);
  });

  it('names the file and byte offset of a truncated file or a bad label', async () => {
    expect(() => parseCifar10(new Uint8Array(3073 + 100), 'cut.bin')).toThrow(DataFormatError);
    expect(() => parseCifar10(new Uint8Array(3073 + 100), 'cut.bin')).toThrow(
      /cut\.bin \(byte 3073\): truncated.*record 1 is incomplete/,
    );
    const bad = new Uint8Array(2 * 3073);
    bad[3073] = 12;
    expect(() => parseCifar10(bad, 'bad.bin')).toThrow(/bad\.bin \(byte 3073\): record 1 has label 12/);
    const dir = await mkdtemp(join(tmpdir(), 'mr-cifar-'));
    await writeFile(join(dir, 'test_batch.bin'), new Uint8Array(3073));
    await expect(loadCifar10(dir)).rejects.toThrow(/data_batch_1\.bin: missing or unreadable/);
    // the files are read in parallel; the error names the first bad one in order, not the one whose read failed
    // first: a large truncated data_batch_1.bin fails after the missing data_batch_3.bin did
    await writeFile(join(dir, 'data_batch_1.bin'), new Uint8Array(3073 * 2000 + 5));
    await writeFile(join(dir, 'data_batch_2.bin'), new Uint8Array(3073));
    await expect(loadCifar10(dir)).rejects.toThrow(/data_batch_1\.bin \(byte 6146000\): truncated/);
    // a folder whose data_batch_3.bin was cut inside record 2: loadCifar10 names that file and the record's offset
    for (const name of CIFAR10_TRAIN_FILES)
      await writeFile(join(dir, name), new Uint8Array(name === 'data_batch_3.bin' ? 2 * 3073 + 7 : 3073));
    await expect(loadCifar10(dir)).rejects.toMatchObject({
      path: join(dir, 'data_batch_3.bin'),
      offset: 6146,
      message: expect.stringMatching(/data_batch_3\.bin \(byte 6146\): truncated/),
    });
    await writeFile(join(dir, 'data_batch_3.bin'), new Uint8Array(0)); // 0 records is valid
    expect((await loadCifar10(dir)).train.count).toBe(4);
    expect(() => findCifar10(join(dir, 'nowhere'))).toThrow(/Invalid argument 'dataDir'/);
  });
});
