import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy } from '@moco-robust/data';
import { cifarSampleDir, readCifarSample } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const sample = cifarSampleDir();

describe.skipIf(!sample)('attack --attack moco-pgd | moco-fgsm --encoder (label-free, tiny preset)', () => {
  it('moves the representation within ε, and reports the accuracy it costs a classifier when one is given', () => {
    const root = mkdtempSync(join(tmpdir(), 'mr-attack-moco-'));
    const pretrain = runCli(['pretrain', '--preset', 'tiny', '--out', join(root, 'pretrain')]);
    expect(pretrain.status, pretrain.stderr).toBe(0);
    const common = ['--encoder', join(root, 'pretrain'), '--images', '16', '--negatives', '64', '--json'];
    const pgd = runCli(['attack', '--attack', 'moco-pgd', '--steps', '3', ...common, '--out', join(root, 'pgd')]);
    expect(pgd.status, pgd.stderr).toBe(0);
    const result = JSON.parse(pgd.stdout);
    expect(result.attack).toMatch(/^MoCo-PGD \(label-free\)-3 ε=8\/255 α=2\/255 T=0.2$/);
    expect(result.cleanAccuracy).toBeUndefined(); // no classifier, no labels used
    expect(result.representation.negatives).toBe(64);
    expect(result.representation.cosineSimilarity).toBeLessThan(1);
    expect(result.representation.adversarialLoss).toBeGreaterThan(result.representation.cleanLoss);
    const adversarial = readNpy(readFileSync(join(root, 'pgd', 'adversarial.npy')));
    const clean = readCifarSample('test_batch.bin', 16)!.images;
    let worst = 0;
    for (let i = 0; i < clean.length; i++) worst = Math.max(worst, Math.abs(adversarial.data[i] - clean[i]));
    expect(worst).toBeLessThanOrEqual(9); // ε = 8/255, rounded to uint8

    const finetune = runCli([
      'finetune',
      '--preset',
      'tiny',
      '--from',
      join(root, 'pretrain'),
      '--out',
      join(root, 'ft'),
    ]);
    expect(finetune.status, finetune.stderr).toBe(0);
    const fgsm = runCli([
      'attack',
      '--attack',
      'moco-fgsm',
      ...common,
      '--model',
      join(root, 'ft'),
      '--out',
      join(root, 'f'),
    ]);
    expect(fgsm.status, fgsm.stderr).toBe(0);
    const cost = JSON.parse(fgsm.stdout);
    expect(cost.attack).toBe('MoCo-FGSM (label-free) ε=8/255 T=0.2');
    expect(cost.cleanAccuracy).toBeGreaterThanOrEqual(0);
    expect(cost.adversarialAccuracy).toBeLessThanOrEqual(1);
    expect(cost.representation.cosineSimilarity).toBeLessThan(1);

    const missing = runCli(['attack', '--attack', 'moco-pgd', '--out', join(root, 'never')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/--attack moco-pgd needs --encoder/);
  });
});
