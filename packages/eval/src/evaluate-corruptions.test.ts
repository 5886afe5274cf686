import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  ALL_CORRUPTIONS,
  BENCHMARK_CORRUPTIONS,
  loadFrostTextures,
  parseCifar10,
  SEVERITIES,
  subsetImages,
  writeCifar10C,
  type CorruptionName,
  type FrostTexture,
} from '@moco-robust/data';
import { cifar10cReferenceDir, readCifarSample, useFastestBackend } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  evaluateCorruptions,
  generatedCorruptions,
  type CorruptionEvalEvent,
  type CorruptionResult,
} from './evaluate-corruptions';
import { officialCorruptions } from './node/official-corruptions';
import type * as tfl from '@tensorflow/tfjs-layers';
import { trainedTinyClassifier } from './test-helpers/trained-tiny-classifier';

const reference = cifar10cReferenceDir();
const test = readCifarSample('test_batch.bin', 512); // the whole test sample

/**
 * The reference outputs (the original generator on the first 64 test images) written in the official release layout.
 */
async function officialLayoutFromReference(dir: string): Promise<void> {
  const blocks = ALL_CORRUPTIONS.flatMap((corruption) =>
    SEVERITIES.map((severity) => {
      const path = join(reference!, `${corruption}_s${severity}.bin`);
      return { corruption, severity, images: parseCifar10(readFileSync(path), path).images };
    }),
  );
  await writeCifar10C(dir, test!.labels.subarray(0, 64), blocks);
}

describe.skipIf(!reference || !test)('CIFAR-10-C evaluation (tiny classifier, fastest backend)', () => {
  let dir = '';
  let frostTextures: FrostTexture[] = [];
  let model: tfl.LayersModel;
  beforeAll(async () => {
    await useFastestBackend();
    model = await trainedTinyClassifier();
    dir = mkdtempSync(join(tmpdir(), 'eval-cifar10c-'));
    await officialLayoutFromReference(dir);
    frostTextures = await loadFrostTextures(join(reference!, 'frost_small'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    model?.dispose();
  });

  /** Runs the evaluation collecting events; checks that every block leaves the tensor count where it was. */
  async function evaluate(
    blocks: Parameters<typeof evaluateCorruptions>[1],
    options: Parameters<typeof evaluateCorruptions>[2] = {},
  ) {
    const events: CorruptionEvalEvent[] = [];
    const before = tf.memory().numTensors;
    const result = await evaluateCorruptions(model, blocks, {
      ...options,
      batchSize: 24,
      onEvent: (e) => events.push(e),
    });
    expect(tf.memory().numTensors).toBe(before);
    const counts = events.flatMap((e) => (e.type === 'corruption-eval' ? [e.numTensors] : []));
    expect(new Set(counts).size, 'tensor count after each block').toBe(1);
    return { result, events };
  }

  function expectConsistent(result: CorruptionResult, names: readonly CorruptionName[], images: number) {
    expect(result.results.map((r) => `${r.corruption}/${r.severity}`)).toEqual(
      names.flatMap((c) => SEVERITIES.map((s) => `${c}/${s}`)),
    );
    for (const r of result.results) {
      expect(r.total).toBe(images);
      expect(r.accuracy).toBeCloseTo(r.correct / images, 12);
    }
    for (const name of names) {
      const mean = result.results.filter((r) => r.corruption === name).reduce((a, r) => a + r.accuracy, 0) / 5;
      expect(result.perCorruption[name]).toBeCloseTo(mean, 12);
    }
    const benchmark = result.results.filter((r) => (BENCHMARK_CORRUPTIONS as readonly string[]).includes(r.corruption));
    expect(result.meanBenchmark).toBeCloseTo(benchmark.reduce((a, r) => a + r.accuracy, 0) / 75, 12);
  }

  it(
    'over all 19 corruptions × 5 severities of the official ' + 'layout, one block at a time, with flat memory',
    async () => {
      const { result } = await evaluate(officialCorruptions(dir), { source: 'official' });
      expect(result.source).toBe('official');
      expectConsistent(result, ALL_CORRUPTIONS, 64);
    },
  );

  it(
    'over all 19 × 5 generated on the fly (frost textures given) with flat ' +
      'memory, agreeing with the official arrays on deterministic corruptions',
    async () => {
      const generated = generatedCorruptions(test!, { seed: 1, frostTextures });
      const { result } = await evaluate(generated.blocks, { skipped: generated.skipped });
      expectConsistent(result, ALL_CORRUPTIONS, 512);
      expect(result.skipped).toEqual([]);

      const deterministic: CorruptionName[] = [
        'brightness',
        'contrast',
        'pixelate',
        'saturate',
        'defocus_blur',
        'jpeg_compression',
      ];
      const first64 = subsetImages(
        test!,
        Array.from({ length: 64 }, (_, i) => i),
      );
      const mine = (await evaluate(generatedCorruptions(first64, { seed: 1, corruptions: deterministic }).blocks))
        .result;
      const official = (
        await evaluate(officialCorruptions(dir, { corruptions: deterministic }), { source: 'official' })
      ).result;
      expect(
        official.results.find((r) => r.corruption === 'brightness' && r.severity === 1)!.accuracy,
        'the classifier learned something',
      ).toBeGreaterThan(0.2);
      for (const r of official.results) {
        const ours = mine.results.find((g) => g.corruption === r.corruption && g.severity === r.severity)!;
        // the generator matches the original within ±1 level per value: at most a prediction or two may flip
        expect(Math.abs(ours.correct - r.correct), `${r.corruption} s${r.severity}`).toBeLessThanOrEqual(2);
      }
    },
  );

  it('records frost as skipped without its textures, and the benchmark mean then stays undefined', async () => {
    const generated = generatedCorruptions(test!, {
      seed: 1,
      corruptions: ['brightness', 'frost'],
      severities: [1, 2, 3, 4, 5],
    });
    const { result } = await evaluate(generated.blocks, { skipped: generated.skipped });
    expect(result.skipped.map((s) => s.corruption)).toEqual(['frost']);
    expect(result.results.every((r) => r.corruption === 'brightness')).toBe(true);
    expect(result.meanBenchmark).toBeUndefined();
    expect(result.meanEvaluated).toBeCloseTo(result.perCorruption.brightness!, 12);
  });
});
