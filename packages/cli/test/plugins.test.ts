import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifarSampleDir } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const sample = cifarSampleDir();

/** The baseline plugins of the workspace (each a separately published package the CLI loads by method name). */
const PLUGINS = ['rotation', 'jigsaw', 'selfie', 'rocl'];

describe.skipIf(!sample)(
  'every registered plugin through tiny pretrain ' + '→ finetune → eval, exactly like MoCo',
  () => {
    it.each(PLUGINS)('%s', (method) => {
      const root = mkdtempSync(join(tmpdir(), `mr-plugin-${method}-`));
      const pretrain = runCli([
        'pretrain',
        '--preset',
        'tiny',
        '--method',
        method,
        '--out',
        join(root, 'pretrain'),
        '--json',
      ]);
      expect(pretrain.status, pretrain.stderr).toBe(0);
      const pretrained = JSON.parse(pretrain.stdout);
      expect(pretrained.steps).toBeGreaterThan(0);
      expect(Number.isFinite(pretrained.loss)).toBe(true);
      const events = readFileSync(join(root, 'pretrain', 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.find((e) => e.type === 'pretrain-start').method).toBe(method);

      const finetune = runCli([
        'finetune',
        '--preset',
        'tiny',
        '--from',
        join(root, 'pretrain'),
        '--out',
        join(root, 'finetune'),
        '--json',
      ]);
      expect(finetune.status, finetune.stderr).toBe(0);
      const evaluation = runCli([
        'eval',
        '--preset',
        'tiny',
        '--from',
        join(root, 'finetune'),
        '--attacks',
        'clean,fgsm,pgd',
        '--name',
        method,
        '--out',
        join(root, 'eval'),
        '--json',
      ]);
      expect(evaluation.status, evaluation.stderr).toBe(0);
      const report = JSON.parse(evaluation.stdout);
      expect(report.robustness.clean.total).toBe(128);
      expect(report.robustness.pgd.accuracy).toBeLessThanOrEqual(report.robustness.clean.accuracy);
    });
  },
);
