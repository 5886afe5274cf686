import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_BIN } from './run-cli';

describe('moco-robust bench (harness check with tiny shapes; CI never asserts a speed)', () => {
  it(
    'measures each backend in its own process — conv, ResNet, attacks, pre-training ' +
      'and fine-tuning steps, augmentation — and the CIFAR-10-C generator',
    () => {
      const out = mkdtempSync(join(tmpdir(), 'mr-bench-'));
      const run = spawnSync(
        process.execPath,
        [CLI_BIN, 'bench', '--tiny', '--backends', 'wasm', '--corruption-images', '4', '--out', out, '--json'],
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
        [CLI_BIN, 'bench', '--memory', '--tiny', '--backends', 'wasm', '--out', out, '--json'],
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

  // A stand-in for the PyTorch reference with its command-line contract (--configs arch:batch, --workloads, --json,
  // --tuned-malloc re-executing itself with the allocator settings): it touches 100 MiB per image of the batch, so the
  // peak the harness measures from outside is known, and reports a fixed torch version.
  const standIn = (version: string) => `
import argparse, json, os, sys
ap = argparse.ArgumentParser()
for flag in ("--configs", "--workloads", "--reps", "--json", "--md"): ap.add_argument(flag)
ap.add_argument("--tuned-malloc", action="store_true"); ap.add_argument("--skip-micro", action="store_true")
a = ap.parse_args()
if a.tuned_malloc and not os.environ.get("MALLOC_MMAP_THRESHOLD_"):
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, MALLOC_MMAP_THRESHOLD_="4294967296"))
arch, batch = a.configs.split(":")
block = bytearray(int(batch) * 100 * 2**20)
for i in range(0, len(block), 4096): block[i] = 1
malloc = "tuned" if os.environ.get("MALLOC_MMAP_THRESHOLD_") else "default"
workloads = a.workloads.split(",")
results = [{"workload": w, "images_per_s": 10.0 * (k + 1), "malloc": malloc} for k, w in enumerate(workloads)]
json.dump({"meta": {"torch": "${version}", "threads": 2}, "results": results}, open(a.json, "w"))
`;

  /** `bench --tiny --compare-torch` with the reference `script` run by `pythons`, results in `dir`: its JSON report. */
  const benchAgainst = (dir: string, script: string, pythons: string, flags: string[], timeout = 300_000) => {
    const args = ['bench', '--tiny', '--corruption-images', '0', '--compare-torch', '--torch-script', script];
    const run = spawnSync(process.execPath, [CLI_BIN, ...args, '--python', pythons, ...flags, '--out', dir, '--json'], {
      encoding: 'utf8',
      timeout,
    });
    expect(run.status, run.stderr).toBe(0);
    return JSON.parse(run.stdout);
  };

  it('--compare-torch with two references (--python a,b): one ratio table per PyTorch, labelled by version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mr-bench-torch-'));
    writeFileSync(join(dir, 'old.py'), standIn('1.13.1'));
    writeFileSync(join(dir, 'new.py'), standIn('2.13.0+cpu'));
    // one interpreter, two scripts: run the second reference through a wrapper interpreter script
    const python2 = join(dir, 'python-new');
    writeFileSync(python2, `#!/bin/sh\nshift\nexec python3 ${join(dir, 'new.py')} "$@"\n`, { mode: 0o755 });
    const report = benchAgainst(dir, join(dir, 'old.py'), `python3,${python2}`, ['--backends', 'wasm']);
    expect(report.torch.map((t: { torch: string }) => t.torch)).toEqual(['1.13.1', '2.13.0+cpu']);
    expect(Object.keys(report.ratios)).toEqual(['PyTorch 1.13.1', 'PyTorch 2.13.0+cpu']);
    const ours = report.results[0].workloads;
    // the stand-in reports 10, 20, 30, 40 images/s for infer, sup_pgd, moco_adv_step, sup_adv_step
    expect(report.ratios['PyTorch 1.13.1'].wasm.infer).toBeCloseTo(ours.infer / 10, 10);
    expect(report.ratios['PyTorch 2.13.0+cpu'].wasm.sup_adv_step).toBeCloseTo(ours.supAdvStep / 40, 10);
  });

  it('--compare-torch --rounds 2: interleaved rounds (ours first, then the references first), median ratios', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mr-bench-rounds-'));
    writeFileSync(join(dir, 'ref.py'), standIn('2.13.0+cpu'));
    const report = benchAgainst(dir, join(dir, 'ref.py'), 'python3', ['--backends', 'wasm', '--rounds', '2']);
    expect(report.rounds.map((r: { order: string[] }) => r.order)).toEqual([
      ['wasm', 'PyTorch (python3)'],
      ['PyTorch (python3)', 'wasm'],
    ]);
    const ours = report.rounds.map((r: { ours: Array<{ imagesPerSecond: Record<string, number> }> }) => r.ours[0]);
    for (const [k, workload] of ['infer', 'sup_pgd', 'moco_adv_step', 'sup_adv_step'].entries()) {
      // each round's ratio against that round's reference (10, 20, 30, 40 images/s); two rounds: their mean
      const perRound = ours.map(
        (o: { imagesPerSecond: Record<string, number> }) => o.imagesPerSecond[workload]! / (10 * (k + 1)),
      );
      expect(perRound.every((r: number) => r > 0)).toBe(true);
      expect(report.ratios['PyTorch 2.13.0+cpu'].wasm[workload]).toBeCloseTo((perRound[0] + perRound[1]) / 2, 10);
      expect(report.ratioRanges['PyTorch 2.13.0+cpu'].wasm[workload]).toEqual([
        Math.min(...perRound),
        Math.max(...perRound),
      ]);
      expect(report.torch[0].imagesPerSecond[workload]).toBe(10 * (k + 1));
    }
    expect(ours.every((o: { numTensorsLeaked: number }) => o.numTensorsLeaked === 0)).toBe(true);
    const zero = spawnSync(process.execPath, [CLI_BIN, 'bench', '--tiny', '--backends', 'none', '--rounds', '0'], {
      encoding: 'utf8',
    });
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain("--rounds must be at least 1; got '0'");
  });

  it("--memory --compare-torch measures PyTorch's peak for the same step in the same run, per allocator", () => {
    const dir = mkdtempSync(join(tmpdir(), 'mr-bench-torch-memory-'));
    writeFileSync(join(dir, 'ref.py'), standIn('2.13.0+cpu'));
    const { memory } = benchAgainst(dir, join(dir, 'ref.py'), 'python3', ['--memory', '--backends', 'none'], 120_000);
    expect(memory.errors).toEqual([]);
    expect(memory.torch.map((t: { malloc: string }) => t.malloc)).toEqual(['default', 'tuned']);
    for (const t of memory.torch) {
      expect(t.torch).toBe('2.13.0+cpu');
      expect(t.batch).toBe(2);
      // 200 MiB touched by the stand-in (2 images × 100 MiB), measured through the re-exec of --tuned-malloc too
      expect(t.peakMiB).toBeGreaterThan(200);
      expect(t.peakMiB).toBeLessThan(400);
    }
  });

  it('--compare-torch without --torch-script is a usage error (no default points outside the project)', () => {
    const run = spawnSync(process.execPath, [CLI_BIN, 'bench', '--tiny', '--backends', 'none', '--compare-torch'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--compare-torch needs --torch-script');
  });
});
