import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpointManifest } from '@moco-robust/core';
import { cifarSampleDir } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { lastLine, runCli } from './run-cli';

// Bad starts and bad numbers on the real CLI: each failure gets its documented exit code and a one-line message
// naming the setting or path, and leaves the output folder exactly as it was.
const sample = cifarSampleDir();
const SMALL = ['--preset', 'tiny', '--set', 'data.trainImages=128', '--set', 'data.testImages=64'];

/** Every file under `dir` with its bytes (undefined when `dir` does not exist). */
function snapshot(dir: string): Record<string, string> | undefined {
  if (!existsSync(dir)) return undefined;
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out[path] = entry.isFile() ? readFileSync(path).toString('base64') : 'folder';
  }
  return out;
}

describe.skipIf(!sample)('a failed start changes nothing; bad numbers stop the run', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mr-bad-start-'));
  });

  it.each([
    [['--set', '__proto__.polluted=1'], /--set: '__proto__' is not a setting/],
    [['--set', 'pretrain.constructor.x=1'], /'constructor' is not a setting/],
    [['--set', 'prototype=1'], /'prototype' is not a setting/],
    [['--set', 'pretrain.epochs=1', '--set', 'pretrain.epochs.x=2'], /conflicts with 'pretrain\.epochs=1'/],
    [['--set', 'pretrain.epochs.x=2', '--set', 'pretrain.epochs=1'], /conflicts with 'pretrain\.epochs\.x=2'/],
    [['--set', 'pretrain.batchSize=0'], /batchSize.*expected an integer ≥ 1, got number 0/],
    [['--set', 'pretrain.attack.epsilon=3'], /epsilon/],
  ])('pretrain %j is a usage error (exit 2) before anything is written', (flags, message) => {
    for (const existing of [false, true]) {
      const out = join(root, `usage-${readdirSync(root).length}`);
      if (existing) mkdirSync(out);
      const before = snapshot(out);
      const result = runCli(['pretrain', ...SMALL, ...flags, '--out', out]);
      expect(result.status, result.stderr).toBe(2);
      expect(lastLine(result.stderr)).toMatch(message);
      expect(snapshot(out)).toEqual(before);
    }
  });

  it('--out under a regular file or on a read-only file system: a file-system error (exit 9) naming the path', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a folder');
    const under = runCli(['pretrain', ...SMALL, '--out', join(file, 'run')]);
    expect(under.status, under.stderr).toBe(9);
    expect(lastLine(under.stderr)).toMatch(`${file}: cannot use ${join(file, 'run')} as the output folder`);
    expect(lastLine(under.stderr)).toMatch('(ENOTDIR)');
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
    const readOnly = join(root, 'read-only');
    mkdirSync(readOnly);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', readOnly]).status === 0;
    if (mounted) {
      try {
        const result = runCli(['pretrain', ...SMALL, '--out', join(readOnly, 'run')]);
        expect(result.status, result.stderr).toBe(9);
        expect(lastLine(result.stderr)).toMatch(
          `${readOnly}: cannot write into the folder: the file system is read-only`,
        );
      } finally {
        spawnSync('umount', [readOnly]);
      }
    }
  });

  it('a full disk while checkpointing is a file-system error (exit 9) and the previous checkpoint stays', async () => {
    // a real full disk (a small tmpfs) where the machine allows mounting, otherwise an injected ENOSPC
    const disk = join(root, 'small-disk');
    mkdirSync(disk);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=160k', 'tmpfs', disk]).status === 0;
    try {
      const out = join(disk, 'run');
      const result = runCli(['pretrain', ...SMALL, '--set', 'pretrain.checkpoint.everySteps=1', '--out', out], {
        env: mounted ? {} : { MOCO_ROBUST_TEST_CHECKPOINT_FAULT: 'files-written@2:ENOSPC' },
      });
      expect(result.status, result.stderr).toBe(9);
      expect(lastLine(result.stderr)).toMatch(/checkpoints.*no space left on the device \(ENOSPC\)/);
      const latest = join(out, 'checkpoints', 'latest');
      if (existsSync(latest))
        await readCheckpointManifest(join(out, 'checkpoints', readFileSync(latest, 'utf8').trim()));
      expect(readdirSync(join(out, 'checkpoints')).filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      if (mounted) spawnSync('umount', [disk]);
    }
  });

  it('finetune --from a checkpoint folder without its manifest is refused (exit 5), nothing written', () => {
    const fake = join(root, 'no-manifest');
    mkdirSync(join(fake, 'encoder'), { recursive: true });
    writeFileSync(join(fake, 'state.json'), '{"step":1}');
    writeFileSync(join(fake, 'encoder', 'model.json'), '{}');
    const out = join(root, 'finetune-no-manifest');
    const result = runCli(['finetune', ...SMALL, '--from', fake, '--out', out]);
    expect(result.status, result.stderr).toBe(5);
    expect(lastLine(result.stderr)).toMatch(`${fake}: is a checkpoint folder without manifest.json`);
    expect(existsSync(out)).toBe(false);
  });

  it('a learning rate that makes the loss NaN stops with exit 8, keeping only finite checkpoints', async () => {
    const out = join(root, 'nan');
    const result = runCli([
      'pretrain',
      ...SMALL,
      '--set',
      'pretrain.checkpoint.everySteps=1',
      '--set',
      'pretrain.optimizer.learningRate=1e25',
      '--out',
      out,
    ]);
    expect(result.status, result.stderr).toBe(8);
    expect(lastLine(result.stderr)).toMatch(/became non-finite \(NaN or Infinity\) at step \d/);
    expect(result.stdout).not.toMatch(/Next:/);
    expect(existsSync(join(out, 'encoder'))).toBe(false);
    const names = readdirSync(join(out, 'checkpoints')).filter((n) => /^\d+/.test(n));
    expect(names.length).toBeGreaterThan(0); // step 1 is still finite at this rate; later steps are not
    expect(lastLine(result.stderr)).toMatch(`the last finite checkpoint is ${join(out, 'checkpoints', names.at(-1)!)}`);
    for (const name of names) {
      const dir = join(out, 'checkpoints', name);
      await readCheckpointManifest(dir);
      const weights = readFileSync(join(dir, 'encoder', 'weights.bin'));
      const values = new Float32Array(weights.buffer, weights.byteOffset, weights.byteLength / 4);
      expect(values.every(Number.isFinite)).toBe(true);
    }
    rmSync(out, { recursive: true });
  });
});
