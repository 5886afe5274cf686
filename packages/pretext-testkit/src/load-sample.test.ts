import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifarSampleDir, readCifarSample } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { loadSample } from './load-sample';

const dir = cifarSampleDir();

describe.skipIf(!dir)('loadSample (the real CIFAR-10 sample)', () => {
  it('reads the first records of a training file and of the test file, as an independent reader does', () => {
    const sample = loadSample({ dir: dir!, train: 40, test: 12, trainFile: 'data_batch_2.bin' })!;
    expect(sample.source).toBe(dir);
    const [train, test] = [readCifarSample('data_batch_2.bin', 40)!, readCifarSample('test_batch.bin', 12)!];
    expect(sample.train.count).toBe(40);
    expect(Array.from(sample.train.labels)).toEqual(Array.from(train.labels));
    expect(Buffer.from(sample.train.images).equals(Buffer.from(train.images))).toBe(true);
    expect(Buffer.from(sample.test.images).equals(Buffer.from(test.images))).toBe(true);
    expect(loadSample({ dir: dir! })!.train.count).toBe(512); // defaults: 512 training and 256 test images
  });

  it('names the argument when the sample is too small or the folder holds no CIFAR-10 files', () => {
    expect(() => loadSample({ dir: dir!, train: 5000 })).toThrow(
      /'train': expected at most the 1017 records of .*data_batch_1.bin, got number 5000/,
    );
    expect(() => loadSample({ dir: dir!, test: -1 })).toThrow(/'test': expected an integer ≥ 0/);
    const empty = mkdtempSync(join(tmpdir(), 'testkit-'));
    try {
      expect(() => loadSample({ dir: empty })).toThrow(/'dir': expected a folder holding the CIFAR-10 binary files/);
      writeFileSync(join(empty, 'test_batch.bin'), new Uint8Array(3073));
      expect(() => loadSample({ dir: empty, train: 1 })).toThrow(/'dir': expected a folder holding data_batch_1.bin/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
