import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifarSampleDir, sharedPath } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { CLI_BIN, cliEnv, runCli, runCliWithoutTfjs } from './run-cli';

const sample = cifarSampleDir();

describe('moco-robust (the built binary)', () => {
  it('prints help without loading tfjs', () => {
    const result = runCliWithoutTfjs(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Usage: moco-robust <command>/);
    expect(result.stdout).toMatch(/demo/);
    expect(runCli(['demo', '--help']).stdout).toMatch(/--preset <value>.*one of tiny\|demo\|study\|full/);
  });

  it('rejects bad flags and values with a one-line cause and exit code 2', () => {
    const unknown = runCli(['demo', '--epochs', '3']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/demo: Unknown option '--epochs'; valid options: --data, --out, --preset/);
    const bad = runCli(['demo', '--preset', 'huge']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--preset must be one of tiny, demo, study, full; got 'huge'/);
    expect(runCli(['frobnicate']).stderr).toMatch(
      /unknown command 'frobnicate'; valid commands: demo, pretrain, finetune, eval, attack, .*bench, backend/,
    );
  });

  it(
    'exits non-zero with a one-line cause when the dataset ' +
      'is missing, and leaves an existing run directory intact',
    async () => {
      const empty = await mkdtemp(join(tmpdir(), 'mr-nodata-'));
      const missing = runCli(['demo', '--preset', 'tiny', '--data', empty]);
      expect(missing.status).toBe(2);
      expect(missing.stderr).toMatch(/Invalid argument 'dataDir': expected a folder holding the CIFAR-10 binary files/);
      const out = await mkdtemp(join(tmpdir(), 'mr-existing-'));
      await writeFile(join(out, 'keep.txt'), 'precious');
      const occupied = runCli(['demo', '--preset', 'tiny', '--out', out], {
        env: { MOCO_ROBUST_DATA: sample ?? empty },
      });
      expect(occupied.status).toBe(2);
      expect(occupied.stderr).toMatch(
        /already holds files; choose a new directory or pass --resume \(nothing was changed\)/,
      );
      expect(readFileSync(join(out, 'keep.txt'), 'utf8')).toBe('precious');
      expect(readdirSync(out)).toEqual(['keep.txt']);
    },
  );

  it.skipIf(!sample)(
    'demo --preset tiny runs the whole pipeline and writes a report, a model and an event log',
    async () => {
      const out = join(await mkdtemp(join(tmpdir(), 'mr-demo-')), 'run');
      const frost = join(sharedPath('reference', 'cifar10c', 'frost_small') ?? '', '');
      const result = runCli(['demo', '--preset', 'tiny', '--out', out, '--json', '--frost', frost]);
      expect(result.status, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout);
      expect(summary.robustness.clean.total).toBe(128);
      expect(summary.robustness.pgd.attack).toMatch(/^PGD-5/);
      expect(summary.cifar10c.results).toHaveLength(95); // 19 corruptions × 5 severities, frost included
      expect(summary.cifar10c.meanBenchmark).toBeGreaterThan(0);
      const files = [
        'index.html',
        'report.md',
        'report.json',
        'charts/corruptions.svg',
        'charts/comparison.svg',
        'metrics.json',
        'config.json',
        'events.jsonl',
        'finetune/model/model.json',
        'finetune/model/weights.bin',
        'pretrain/encoder/model.json',
      ];
      for (const file of files) expect(existsSync(join(out, file)), file).toBe(true);
      // the none control: the same fine-tuning from a random initialisation, side by side, with a verdict
      expect(summary.control.robustness.pgd.total).toBe(128);
      expect(summary.verdict).toMatch(
        /^At this budget \(2 adversarial fine-tuning epochs for both\), pre-training (helped|did not help|made no)/,
      );
      expect(existsSync(join(out, 'control', 'finetune', 'model', 'model.json'))).toBe(true);
      const report = readFileSync(join(out, 'report.md'), 'utf8');
      expect(report).toContain('none (adversarial training from scratch)');
      expect(report).toContain(summary.verdict);
      expect(report).toContain(`${(100 * summary.robustness.pgd.accuracy).toFixed(2)}%`);
      expect(report).toContain(`${(100 * summary.cifar10c.meanBenchmark).toFixed(2)}%`);
      const events = readFileSync(join(out, 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.some((e) => e.type === 'pretrain-end')).toBe(true);
      expect(events.some((e) => e.type === 'finetune-end')).toBe(true);
      expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({
        preset: 'tiny',
        protocol: 'standard',
        seed: 0,
      });
    },
  );

  it.skipIf(!sample)(
    'pretrain killed with SIGINT saves a checkpoint, exits 130, ' +
      'and --resume ends with the weights of an uninterrupted run',
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'mr-sigint-'));
      const settings = [
        '--preset',
        'tiny',
        '--set',
        'pretrain.epochs=6',
        '--set',
        'pretrain.checkpoint.everySteps=2',
        '--seed',
        '3',
      ];
      const interrupted = join(root, 'interrupted');
      const child = spawn(process.execPath, [CLI_BIN, 'pretrain', ...settings, '--out', interrupted], {
        env: cliEnv(),
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (/epoch 2 · loss/.test(stderr) && !child.killed) child.kill('SIGINT'); // mid-way: after 2 of 6 epochs
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code, stderr).toBe(130);
      expect(stderr).toMatch(
        /moco-robust: Pre-training stopped at step (\d+) of 48; checkpoint saved at .*interrupted\/checkpoints\/\d+/,
      );
      const stoppedAt = Number(/stopped at step (\d+)/.exec(stderr)![1]);
      expect(stoppedAt).toBeGreaterThan(0);
      expect(stoppedAt).toBeLessThan(48);
      expect(existsSync(join(interrupted, 'encoder'))).toBe(false); // not finished

      const resumed = runCli(['pretrain', '--resume', '--out', interrupted, '--json']);
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout).steps).toBe(48);
      const events = readFileSync(join(interrupted, 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.filter((e) => e.type === 'pretrain-start').map((e) => e.startStep)).toEqual([0, stoppedAt]);

      const uninterrupted = join(root, 'uninterrupted');
      const straight = runCli(['pretrain', ...settings, '--out', uninterrupted, '--json']);
      expect(straight.status, straight.stderr).toBe(0);
      // same backend, same seed: bit-identical encoder weights
      expect(
        readFileSync(join(interrupted, 'encoder', 'weights.bin')).equals(
          readFileSync(join(uninterrupted, 'encoder', 'weights.bin')),
        ),
      ).toBe(true);
      expect(readFileSync(join(interrupted, 'encoder', 'model.json'), 'utf8')).toBe(
        readFileSync(join(uninterrupted, 'encoder', 'model.json'), 'utf8'),
      );
    },
  );
});
