import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy } from '@moco-robust/data';
import { cifarSampleDir, readCifarSample } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli } from './run-cli';

const sample = cifarSampleDir();

/** Every file under `dir` with its bytes, to check that a failed command changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      out[join(entry.parentPath, entry.name)] = readFileSync(join(entry.parentPath, entry.name)).toString('base64');
  }
  return out;
}

describe.skipIf(!sample)('the pipeline commands, one at a time (tiny preset)', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mr-commands-'));
    const pretrain = runCli(['pretrain', '--preset', 'tiny', '--out', join(root, 'pretrain'), '--json']);
    expect(pretrain.status, pretrain.stderr).toBe(0);
  });

  it(
    'finetune --from a pretrain run, eval --from the finetune ' + 'run (report with CIFAR-10-C), report combining runs',
    () => {
      const finetune = runCli([
        'finetune',
        '--preset',
        'tiny',
        '--from',
        join(root, 'pretrain'),
        '--mode',
        'partial',
        '--set',
        'finetune.frozenStages=1',
        '--out',
        join(root, 'finetune'),
        '--json',
      ]);
      expect(finetune.status, finetune.stderr).toBe(0);
      expect(JSON.parse(finetune.stdout).from).toBe(join(root, 'pretrain'));
      expect(JSON.parse(readFileSync(join(root, 'finetune', 'config.json'), 'utf8')).finetune).toMatchObject({
        mode: 'partial',
        frozenStages: 1,
      });

      const evaluation = runCli([
        'eval',
        '--preset',
        'tiny',
        '--from',
        join(root, 'finetune'),
        '--attacks',
        'clean,pgd,cifar10c',
        '--set',
        'eval.cifar10cImages=8',
        '--name',
        'tiny run',
        '--out',
        join(root, 'eval'),
        '--json',
      ]);
      expect(evaluation.status, evaluation.stderr).toBe(0);
      const report = JSON.parse(evaluation.stdout);
      expect(report.robustness.fgsm).toBeUndefined();
      expect(report.robustness.pgd.total).toBe(128);
      expect(report.corruptions.results).toHaveLength(90); // frost skipped without textures …
      // … and noted
      expect(report.corruptions.skipped.map((s: { corruption: string }) => s.corruption)).toEqual(['frost']);
      expect(readFileSync(join(root, 'eval', 'report.md'), 'utf8')).toMatch(/frost was skipped/);

      const combined = runCli([
        'report',
        join(root, 'eval'),
        join(root, 'eval', 'report.json'),
        '--out',
        join(root, 'combined'),
        '--json',
      ]);
      expect(combined.status, combined.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(root, 'combined', 'report.json'), 'utf8')).runs).toHaveLength(2);
      expect(existsSync(join(root, 'combined', 'index.html'))).toBe(true);
    },
  );

  it('attack writes adversarial examples within ε of the originals, labels, a grid and the accuracies', () => {
    const finetuned = existsSync(join(root, 'finetune', 'model', 'model.json'))
      ? join(root, 'finetune', 'model', 'model.json')
      : join(root, 'pretrain', 'encoder', 'model.json');
    const out = join(root, 'attack');
    const result = runCli([
      'attack',
      '--model',
      finetuned,
      '--attack',
      'fgsm',
      '--epsilon',
      '8/255',
      '--images',
      '16',
      '--out',
      out,
      '--json',
    ]);
    expect(result.status, result.stderr).toBe(0);
    const adversarial = readNpy(readFileSync(join(out, 'adversarial.npy')));
    expect(adversarial.shape).toEqual([16, 32, 32, 3]);
    const labels = readNpy(readFileSync(join(out, 'labels.npy')));
    expect(labels.shape).toEqual([16]);
    const original = readCifarSample('test_batch.bin', 16)!;
    expect(Array.from(labels.data)).toEqual(Array.from(original.labels));
    let largest = 0;
    for (let i = 0; i < original.images.length; i++)
      largest = Math.max(largest, Math.abs(adversarial.data[i] - original.images[i]));
    expect(largest).toBeLessThanOrEqual(8); // ε = 8/255, rounded to whole levels
    expect(largest).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'grid.png')).subarray(1, 4).toString('latin1')).toBe('PNG');
    const summary = JSON.parse(result.stdout);
    expect(summary.images).toBe(16);
    expect(summary.attack).toBe('FGSM ε=8/255');
  });

  it('corrupt writes the official CIFAR-10-C layout (all five severities) and refuses an occupied folder', () => {
    /** `corrupt` of the first 10 test images into `folder` with `flags`; must succeed. */
    const corrupt = (folder: string, ...flags: string[]) => {
      const result = runCli(['corrupt', '--split', 'test', '--images', '10', ...flags, '--out', folder, '--json']);
      expect(result.status, result.stderr).toBe(0);
    };
    const out = join(root, 'corrupt');
    const both = ['--corruptions', 'brightness,gaussian_noise'];
    corrupt(out, ...both, '--workers', '2', '--block-images', '3');
    corrupt(join(root, 'corrupt-1'), ...both, '--workers', '1');
    // workers and blocks of 3 images (each worker's 5 as 3 + 2, written in turn) change nothing
    for (const file of ['brightness.npy', 'gaussian_noise.npy', 'labels.npy'])
      expect(readFileSync(join(out, file)).equals(readFileSync(join(root, 'corrupt-1', file))), file).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['brightness.npy', 'gaussian_noise.npy', 'labels.npy']);
    expect(readNpy(readFileSync(join(out, 'brightness.npy'))).shape).toEqual([50, 32, 32, 3]);
    expect(readNpy(readFileSync(join(out, 'labels.npy'))).shape).toEqual([50]);
    // a subset of severities, in blocks of 4 images: those blocks of the full file, in the order given
    const subset = join(root, 'corrupt-s42');
    corrupt(subset, '--corruptions', 'brightness', '--severities', '4,2', '--block-images', '4', '--workers', '1');
    const full = readNpy(readFileSync(join(out, 'brightness.npy'))).data;
    const picked = readNpy(readFileSync(join(subset, 'brightness.npy')));
    expect(picked.shape).toEqual([20, 32, 32, 3]);
    const block = 10 * 3072;
    expect(
      Buffer.from(picked.data).equals(
        Buffer.concat([full.subarray(3 * block, 4 * block), full.subarray(block, 2 * block)]),
      ),
    ).toBe(true);
    expect(JSON.parse(readFileSync(join(subset, 'severities.json'), 'utf8'))).toEqual({
      severities: [4, 2],
      imagesPerBlock: 10,
    });
    const before = snapshot(out);
    const again = runCli(['corrupt', '--split', 'test', '--images', '10', '--out', out]);
    expect(again.status).toBe(2);
    expect(snapshot(out)).toEqual(before);
  });

  it('a corrupt checkpoint exits 5 with a one-line cause and leaves every run file intact', () => {
    const run = join(root, 'pretrain');
    const checkpoint = join(run, 'checkpoints', readFileSync(join(run, 'checkpoints', 'latest'), 'utf8').trim());
    const copy = join(root, 'damaged');
    spawnSync('cp', ['-r', run, copy]);
    const damagedCheckpoint = join(
      copy,
      'checkpoints',
      readdirSync(join(copy, 'checkpoints')).find((n) => /^\d+$/.test(n))!,
    );
    const weights = join(damagedCheckpoint, 'encoder', 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[100] ^= 0xff;
    writeFileSync(weights, bytes);
    const before = snapshot(copy);
    const result = runCli([
      'finetune',
      '--preset',
      'tiny',
      '--from',
      damagedCheckpoint,
      '--out',
      join(root, 'from-damaged'),
    ]);
    expect(result.status).toBe(5);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/encoder\/weights\.bin: corrupt: expected \d+ bytes with SHA-256/);
    expect(snapshot(copy)).toEqual(before);
    expect(existsSync(join(root, 'from-damaged'))).toBe(false);
    expect(existsSync(checkpoint)).toBe(true);
  });

  it(
    'config files (JSON or YAML) are applied under flags; ' + 'unknown keys and bad values are refused naming the key',
    () => {
      const yaml = join(root, 'settings.yaml');
      writeFileSync(yaml, 'preset: tiny\npretrain:\n  epochs: 1\n  attack:\n    kind: fgsm\n');
      const ok = runCli([
        'pretrain',
        '--config',
        yaml,
        '--set',
        'pretrain.batchSize=64',
        '--out',
        join(root, 'from-yaml'),
        '--json',
      ]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(root, 'from-yaml', 'config.json'), 'utf8')).pretrain).toMatchObject({
        epochs: 1,
        attack: { kind: 'fgsm' },
        batchSize: 64,
      });

      const typo = join(root, 'typo.json');
      writeFileSync(typo, JSON.stringify({ pretrain: { epocs: 3 } }));
      const unknown = runCli(['pretrain', '--config', typo, '--out', join(root, 'never')]);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toMatch(
        /typo\.json: unknown key 'pretrain\.epocs'; valid keys in 'pretrain': method, temperature, .*epochs,/,
      );
      const bad = runCli(['pretrain', '--preset', 'tiny', '--set', 'finetune.mode=half', '--out', join(root, 'never')]);
      expect(bad.stderr).toMatch(/flags: 'finetune\.mode' must be one of linear, partial, full; got 'half'/);
      expect(existsSync(join(root, 'never'))).toBe(false);
    },
  );

  it('data info reports the folder, record counts and class histograms', () => {
    const result = runCli(['data', 'info', '--json']);
    expect(result.status, result.stderr).toBe(0);
    const info = JSON.parse(result.stdout);
    expect(info.folder).toMatch(/cifar-10-batches-bin$/);
    expect(info.train.images).toBe(5085); // the sample: 1017 records of each training batch
    expect(info.test.images).toBe(512);
    expect(Object.values(info.test.classes as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(512);
    expect(runCli(['data', 'fetch']).stderr).toMatch(/data: unknown action 'fetch'; valid actions: download, info/);
  });

  it(
    'data download refuses a file whose MD5 is not the official ' +
      'one: exit 6, one line, the file kept aside as .bad',
    async () => {
      const { createServer } = await import('node:http');
      const server = createServer((_request, response) => response.end(Buffer.alloc(4096, 1)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/cifar-10-binary.tar.gz`;
        // asynchronously: the server runs in this process
        const { spawn } = await import('node:child_process');
        const child = spawn(process.execPath, [
          CLI_BIN,
          'data',
          'download',
          '--cache',
          join(root, 'cache'),
          '--url',
          url,
        ]);
        let stderr = '';
        child.stderr.on('data', (chunk) => (stderr += chunk));
        const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        const result = { status, stderr };
        expect(result.status).toBe(6);
        const lines = result.stderr.trim().split('\n');
        expect(lines.at(-1)).toMatch(
          /checksum mismatch: expected md5 c32a1d4ab5d03f1284b67883e8d87530, got [0-9a-f]{32}; .*kept aside as .*\.bad/,
        );
        expect(existsSync(join(root, 'cache', 'cifar10', 'cifar-10-binary.tar.gz.bad'))).toBe(true);
        expect(existsSync(join(root, 'cache', 'cifar10', 'cifar-10-binary.tar.gz'))).toBe(false);
      } finally {
        server.close();
      }
    },
  );

  it('a plugin method that is not installed exits 7 saying what to install, or what was meant', () => {
    const methods = 'built-in methods: moco-v1, moco-v2; plugins: rotation, jigsaw, selfie, rocl';
    const result = runCli([
      'pretrain',
      '--preset',
      'tiny',
      '--method',
      '@someone/pretext-x',
      '--out',
      join(root, 'plugin'),
    ]);
    expect(result.status).toBe(7);
    expect(result.stderr.trim()).toBe(
      "moco-robust: method '@someone/pretext-x' needs the plugin package @someone/pretext-x, which is not installed: " +
        `npm install @someone/pretext-x (${methods})`,
    );
    const misspelt = runCli(['pretrain', '--preset', 'tiny', '--method', 'rotaton', '--out', join(root, 'plugin')]);
    expect(misspelt.status).toBe(7);
    expect(misspelt.stderr.trim()).toBe(
      "moco-robust: method 'rotaton' needs the plugin package @moco-robust/pretext-rotaton, which is not installed " +
        `and is not a published plugin: did you mean 'rotation'? (${methods})`,
    );
    const unknown = runCli(['pretrain', '--preset', 'tiny', '--method', 'nonexistent', '--out', join(root, 'plugin')]);
    expect(unknown.stderr).toMatch(/is not a published plugin: built-in methods: .*; or give a plugin's package name/);
    expect(unknown.stderr).not.toMatch(/npm install/);
  });
});
