import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');

describe('moco-robust bench (harness check with tiny shapes; CI never asserts a speed)', () => {
  it(
    'measures each backend in its own process — conv, ResNet, attacks, pre-training ' +
      'and fine-tuning steps, augmentation — and the CIFAR-10-C generator',
    () => {
      const out = mkdtempSync(join(tmpdir(), 'mr-bench-'));
      const run = spawnSync(
        process.execPath,
        [bin, 'bench', '--tiny', '--backends', 'wasm', '--corruption-images', '4', '--out', out, '--json'],
        { encoding: 'utf8', timeout: 300_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report.machine.tiny).toBe(true);
      const [wasm] = report.results;
      expect(wasm.backend).toBe('wasm');
      const w = wasm.workloads;
      for (const value of [
        wasm.conv.forward,
        wasm.conv.inputGradient,
        wasm.conv.filterGradient,
        wasm.resnet.forward,
        wasm.resnet.trainStep,
        w.infer,
        w.fgsm,
        w.supPgd,
        w.mocoPgd,
        w.supAdvStep,
        w.mocoAdvStep,
        w.mocoStep,
        w.mocoFgsmStep,
        wasm.augmentation.imagesPerSecond,
        wasm.readNsPerElement,
      ]) {
        expect(value).toBeTypeOf('number');
        expect(value).toBeGreaterThan(0);
      }
      // frost needs textures
      expect(Object.keys(report.corruptions.single.perCorruption).length).toBeGreaterThanOrEqual(18);
      expect(report.corruptions.parallel.overall).toBeGreaterThan(0);
      expect(wasm.numTensorsLeaked).toBe(0);
      expect(readdirSync(out)).toHaveLength(1); // the JSON results file
    },
  );

  it(
    '--memory: peak RSS, page faults and system time of a pre-training step with default ' +
      'and tuned glibc malloc (own processes), and a flat tensor count over tiny steps',
    () => {
      const out = mkdtempSync(join(tmpdir(), 'mr-bench-memory-'));
      const run = spawnSync(
        process.execPath,
        [bin, 'bench', '--memory', '--tiny', '--backends', 'wasm', '--out', out, '--json'],
        { encoding: 'utf8', timeout: 300_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      const { memory } = JSON.parse(run.stdout);
      expect(memory.errors).toEqual([]);
      expect(memory.steps.map((s: { malloc: string }) => s.malloc)).toEqual(['default', 'tuned']);
      for (const step of memory.steps) {
        expect(step.backend).toBe('wasm');
        expect(step.peakMiB).toBeGreaterThan(step.startMiB);
        expect(step.minorPageFaultsPerStep).toBeGreaterThan(0);
        expect(step.imagesPerSecond).toBeGreaterThan(0);
      }
      const [trace] = memory.tensorCounts;
      expect(trace.steps).toBe(20);
      expect(trace.min).toBe(trace.max); // flat after the first step (optimizer slots appear there)
      expect(trace.afterLastStep).toBe(trace.afterFirstStep);
      expect(trace.leaked).toBe(0);
      expect(readdirSync(out)).toHaveLength(1);
    },
  );
});
