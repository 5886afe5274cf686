import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '@moco-robust/data';
import { cifarSampleDir } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { lastLine, runCliAsync } from './run-cli';
import { writeDenseModel } from './dense-model';

// The bad-input matrix of issue 16 on the real CLI: each bad input (data, settings, models, CIFAR-10-C arrays,
// output paths, a full disk) gets its documented exit code (src/exit-codes.ts) and a one-line message naming the
// argument or path, and nothing that existed before changes (bytes and modification times). The cases fail before
// any training, so they run in parallel.
const sample = cifarSampleDir();
const SMALL = ['--preset', 'tiny', '--set', 'data.trainImages=128', '--set', 'data.testImages=64'];
const RECORD = 3073;

/** Runs the CLI without blocking (cases run side by side); frost textures are never found (an empty cache). */
const runCliWithCache = (args: string[], cache: string) => runCliAsync(args, { MOCO_ROBUST_CACHE: cache });

/** Every entry under `dir` (and `dir` itself) with its bytes and modification time. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = { [dir]: `folder ${statSync(dir).mtimeMs}` };
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = statSync(path);
    out[path] = entry.isFile() ? `${readFileSync(path).toString('base64')} ${info.mtimeMs}` : `folder ${info.mtimeMs}`;
  }
  return out;
}

/** A CIFAR-10 folder: links to the sample's training files and a test file made by `test`. */
function writeDataFolder(root: string, name: string, test: Uint8Array) {
  const dir = join(root, name, 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(sample!))
    if (file !== 'test_batch.bin') symlinkSync(join(sample!, file), join(dir, file));
  writeFileSync(join(dir, 'test_batch.bin'), test);
  return dir;
}

const npy = (dtype: 'uint8' | 'int32', shape: number[]) =>
  writeNpy({
    dtype,
    shape,
    data:
      dtype === 'uint8'
        ? new Uint8Array(shape.reduce((a, b) => a * b, 1))
        : new Int32Array(shape.reduce((a, b) => a * b, 1)),
  });

describe.skipIf(!sample)('bad inputs: documented exit codes, one line naming the input, nothing changed', () => {
  let root = '';
  let inputs = '';
  let cache = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mr-bad-input-'));
    inputs = join(root, 'inputs');
    cache = join(root, 'empty-cache');
    mkdirSync(cache, { recursive: true });
  });

  it('refuses every bad input before writing anything', { timeout: 600_000 }, async () => {
    const test = readFileSync(join(sample!, 'test_batch.bin')).subarray(0, 8 * RECORD);
    const badLabel = Uint8Array.from(test);
    badLabel[RECORD] = 12; // record 1's label
    const data = {
      empty: writeDataFolder(inputs, 'empty', new Uint8Array(0)),
      truncated: writeDataFolder(inputs, 'truncated', test.subarray(0, 2 * RECORD + 100)),
      label: writeDataFolder(inputs, 'label', badLabel),
    };
    const model = {
      good: writeDenseModel(join(inputs, 'good'), [32, 32, 3], 10, 0),
      shape: writeDenseModel(join(inputs, 'shape16'), [16, 16, 3], 10, 0),
      five: writeDenseModel(join(inputs, 'five'), [32, 32, 3], 5, 0),
      nan: writeDenseModel(join(inputs, 'nan'), [32, 32, 3], 10, Number.NaN),
    };
    const noManifest = join(inputs, 'no-manifest');
    mkdirSync(join(noManifest, 'classifier'), { recursive: true });
    writeFileSync(join(noManifest, 'state.json'), '{"step":1}');
    const c10c = (name: string, files: Record<string, Uint8Array | 'folder'>) => {
      const dir = join(inputs, name);
      mkdirSync(dir, { recursive: true });
      for (const [file, bytes] of Object.entries(files))
        if (bytes === 'folder') mkdirSync(join(dir, file));
        else writeFileSync(join(dir, file), bytes);
      return dir;
    };
    const labels = npy('uint8', [10]);
    const arrays = {
      // a good first file and a bad last one: refused before the first is evaluated
      folder: c10c('c-folder', {
        'gaussian_noise.npy': npy('uint8', [10, 32, 32, 3]),
        'fog.npy': 'folder',
        'labels.npy': labels,
      }),
      shape: c10c('c-shape', {
        'gaussian_noise.npy': npy('uint8', [10, 32, 32, 3]),
        'fog.npy': npy('uint8', [10, 16, 16, 3]),
        'labels.npy': labels,
      }),
      dtype: c10c('c-dtype', {
        'gaussian_noise.npy': npy('uint8', [10, 32, 32, 3]),
        'fog.npy': npy('int32', [10, 32, 32, 3]),
        'labels.npy': labels,
      }),
      empty: c10c('c-empty', { 'fog.npy': npy('uint8', [0, 32, 32, 3]), 'labels.npy': npy('uint8', [0]) }),
      labels: c10c('c-labels', { 'fog.npy': npy('uint8', [10, 32, 32, 3]), 'labels.npy': npy('uint8', [7]) }),
    };
    const file = join(inputs, 'a-file');
    writeFileSync(file, 'not a folder');
    const outs = join(root, 'outs');
    mkdirSync(outs);
    const out = (name: string) => {
      const dir = join(outs, name);
      mkdirSync(dir); // an existing empty folder: it must keep its modification time too
      return dir;
    };
    const evalOf = (from: string, extra: string[] = []) => ['eval', ...SMALL, '--from', from, ...extra];
    const c10 = (dir: string) => ['--attacks', 'clean,cifar10c', '--cifar10c', dir];
    const cases: Array<[string, string[], number, RegExp | string]> = [
      [
        'empty test file',
        ['pretrain', ...SMALL, '--data', data.empty],
        3,
        `${data.empty}/test_batch.bin: holds no test image`,
      ],
      ['empty test file (eval)', evalOf(model.good, ['--data', data.empty]), 3, 'test_batch.bin: holds no test image'],
      [
        'truncated file',
        ['finetune', ...SMALL, '--data', data.truncated],
        3,
        /test_batch\.bin \(byte 6146\): truncated/,
      ],
      [
        'label ≥ 10',
        evalOf(model.good, ['--data', data.label]),
        3,
        /test_batch\.bin \(byte 3073\): record 1 has label 12/,
      ],
      ['bad setting (demo)', ['demo', ...SMALL, '--set', 'pretrain.attack.epsilon=3'], 2, /epsilon/],
      [
        'bad setting (finetune)',
        ['finetune', ...SMALL, '--set', 'finetune.optimizer.learningRate=-1'],
        2,
        /learningRate/,
      ],
      ['unknown evaluation', evalOf(model.good, ['--attacks', 'clean,bogus']), 2, '--attacks must list values among'],
      ['wrong input shape', evalOf(model.shape), 2, /'--from'.*input \[batch, 32, 32, 3\].*input \[batch, 16, 16, 3\]/],
      ['wrong input shape (finetune)', ['finetune', ...SMALL, '--from', model.shape], 2, /'--from'.*16, 16, 3/],
      ['5-class model', evalOf(model.five), 2, /'--from'.*10 outputs.*output \[batch, 5\]/],
      [
        'NaN weights',
        evalOf(model.nan),
        5,
        `${model.nan}: a classifier with non-finite weights: dense/kernel holds NaN`,
      ],
      [
        'checkpoint without manifest',
        evalOf(noManifest),
        5,
        `${noManifest}: is a checkpoint folder without manifest.json`,
      ],
      ['folder in place of a .npy', evalOf(model.good, c10(arrays.folder)), 9, `${arrays.folder}/fog.npy: `],
      [
        'wrong .npy shape',
        evalOf(model.good, c10(arrays.shape)),
        3,
        /fog\.npy \(byte 0\): expected uint8 images of shape \(5N, 32, 32, 3\).*got uint8 \(10, 16, 16, 3\)/,
      ],
      ['wrong .npy dtype', evalOf(model.good, c10(arrays.dtype)), 3, /fog\.npy \(byte 0\): .*got int32/],
      ['zero-image arrays', evalOf(model.good, c10(arrays.empty)), 3, /fog\.npy \(byte 0\): .*N ≥ 1/],
      [
        'labels.npy length',
        evalOf(model.good, c10(arrays.labels)),
        3,
        /labels\.npy \(byte 0\): expected labels of shape \(10,\) or \(2,\), got \(7\)/,
      ],
      ['--out under a regular file', evalOf(model.good, ['--attacks', 'clean']), 9, `${file}: cannot use`],
      [
        'attack --images 0',
        ['attack', '--model', model.good, '--images', '0'],
        2,
        "--images must be at least 1; got '0'",
      ],
    ];
    const targets = cases.map(([name]) =>
      name === '--out under a regular file' ? join(file, 'run') : out(name.replace(/\W+/g, '-')),
    );
    const before = snapshot(root);
    const results = await Promise.all(
      cases.map(([, args], i) => runCliWithCache([...args, '--out', targets[i]!], cache)),
    );
    const after = snapshot(root);
    for (const [i, [name, , code, message]] of cases.entries()) {
      const { status, stderr } = results[i]!;
      expect({ name, status, line: lastLine(stderr) }).toEqual({
        name,
        status: code,
        line: expect.stringMatching(message),
      });
      expect(lastLine(stderr), name).not.toMatch(/unexpected error/);
    }
    for (const [path, value] of Object.entries(before)) expect(after[path], path).toBe(value);
    for (const dir of readdirSync(outs)) expect(readdirSync(join(outs, dir)), dir).toEqual([]);
  });

  it('a CIFAR-10-C folder corrupt wrote without frost textures is evaluated, frost reported as skipped', {
    timeout: 300_000,
  }, async () => {
    const arrays = join(root, 'corrupted');
    const model = writeDenseModel(join(root, 'model-ok'), [32, 32, 3], 10, 0);
    const written = await runCliWithCache(
      ['corrupt', '--corruptions', 'fog,frost', '--images', '8', '--workers', '1', '--out', arrays],
      cache,
    );
    expect(written.status, written.stderr).toBe(0);
    expect(existsSync(join(arrays, 'fog.npy'))).toBe(true);
    expect(existsSync(join(arrays, 'frost.npy'))).toBe(false);
    const out = join(root, 'eval-no-frost');
    const result = await runCliWithCache(
      ['eval', ...SMALL, '--from', model, '--attacks', 'clean,cifar10c', '--cifar10c', arrays, '--out', out, '--json'],
      cache,
    );
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.corruptions.skipped.map((s: { corruption: string }) => s.corruption)).toContain('frost');
    expect(report.corruptions.results.map((r: { corruption: string }) => r.corruption)).toEqual(Array(5).fill('fog'));
    // eval --resume restarts the evaluation in the same folder with its saved settings, to the same numbers
    const again = await runCliWithCache(['eval', '--resume', '--out', out, '--json'], cache);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).corruptions.results).toEqual(report.corruptions.results);
    // without --resume an occupied folder is refused, suggesting a flag eval has
    const refused = await runCliWithCache(['eval', ...SMALL, '--from', model, '--out', out], cache);
    expect(refused.status).toBe(2);
    expect(lastLine(refused.stderr)).toMatch('already holds files; choose a new directory or pass --resume');
  });

  it("a full disk (small tmpfs, else skipped by the crash tests' injected ENOSPC) is exit 9 naming the path", {
    timeout: 300_000,
  }, async () => {
    const disk = join(root, 'small-disk');
    mkdirSync(disk);
    // without permission to mount, bad-start.test.ts's injected ENOSPC covers the full disk
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', disk]).status !== 0) return;
    try {
      const model = writeDenseModel(join(root, 'model-disk'), [32, 32, 3], 10, 0);
      const result = await runCliWithCache(
        ['eval', ...SMALL, '--from', model, '--attacks', 'clean', '--out', join(disk, 'run')],
        cache,
      );
      expect(result.status, result.stderr).toBe(9);
      expect(lastLine(result.stderr)).toMatch(new RegExp(`${disk}/run.*no space left on the device \\(ENOSPC\\)`));
    } finally {
      spawnSync('umount', [disk]);
    }
  });
});
