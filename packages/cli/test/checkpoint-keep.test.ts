import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifarSampleDir } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { lastLine, runCli } from './run-cli';

// `--set pretrain.checkpoint.keep=N` / `finetune.checkpointKeep=N`: the libraries' own settings from the CLI —
// validated before anything is written, saved in config.json, honoured by the checkpoint store.
const sample = cifarSampleDir();
const SMALL = ['--preset', 'tiny', '--set', 'data.trainImages=128', '--set', 'data.testImages=64'];
/** The checkpoint folders of a run (without `latest`). */
const checkpoints = (out: string) => readdirSync(join(out, 'checkpoints')).filter((name) => name !== 'latest');

describe.skipIf(!sample)('checkpointKeep from the CLI', () => {
  it('refuses a count that is not an integer ≥ 1, naming the key, before writing anything', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mr-keep-'));
    for (const [key, value] of [
      ['pretrain.checkpoint.keep', '0'],
      ['finetune.checkpointKeep', '1.5'],
      ['pretrain.checkpoint.keep', '"two"'],
    ]) {
      const out = join(root, `${key}-${value}`);
      const result = runCli(['pretrain', ...SMALL, '--set', `${key}=${value}`, '--out', out]);
      expect(result.status, result.stderr).toBe(2);
      expect(lastLine(result.stderr)).toContain(`'${key}'`);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('keeps only the newest checkpoint with checkpointKeep=1, and saves the setting', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mr-keep-'));
    const pretrain = join(root, 'pretrain');
    const keepOne = ['--set', 'pretrain.checkpoint.everySteps=1', '--set', 'pretrain.checkpoint.keep=1'];
    const first = runCli(['pretrain', ...SMALL, ...keepOne, '--out', pretrain]);
    expect(first.status, first.stderr).toBe(0);
    expect(checkpoints(pretrain)).toEqual(['000000004']); // 4 steps, each checkpointed
    expect(JSON.parse(readFileSync(join(pretrain, 'config.json'), 'utf8')).pretrain.checkpoint.keep).toBe(1);

    const finetune = join(root, 'finetune');
    const second = runCli([
      'finetune',
      ...SMALL,
      ...['--set', 'finetune.checkpointEverySteps=1', '--set', 'finetune.checkpointKeep=2'],
      ...['--from', pretrain, '--out', finetune],
    ]);
    expect(second.status, second.stderr).toBe(0);
    expect(checkpoints(finetune)).toEqual(['000000005', '000000006']); // 6 steps, the newest 2 kept
    expect(JSON.parse(readFileSync(join(finetune, 'config.json'), 'utf8')).finetune.checkpointKeep).toBe(2);
  });
});
