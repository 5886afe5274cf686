import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifarSampleDir } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const sample = cifarSampleDir();
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** The report rows of the runs (the comparison table's lines that are not the quoted paper table). */
const runRows = (markdown: string) =>
  markdown.split('## Comparison (reproduced here)')[1].split('\n\n')[1].split('\n').slice(2);

const ROTATION = { method: 'rotation', pretrainAttack: 'PGD-2 on the rotation loss' };
const NAME = 'Rotation (PGD-2 on the rotation loss)';

/** The labels of a rotation run wherever it shows: never `moco-v2`, `unknown` or MoCo-PGD. */
function expectRotationReport(dir: string) {
  expect(readJson(join(dir, 'config.json')).pretrain).toMatchObject({
    method: 'rotation',
    attack: { kind: 'pgd', steps: 2 }, // the paper's `--attack moco-pgd`, saved in the library's vocabulary
  });
  const report = readJson(join(dir, 'report.json'));
  const run = report.runs?.[0] ?? report;
  expect(run).toMatchObject({ ...ROTATION, name: NAME });
  const rows = runRows(readFileSync(join(dir, 'report.md'), 'utf8'));
  // the demo adds its `none` baseline's row; no row of this run's report is MoCo's
  expect(rows.filter((row) => row.startsWith(`| ${NAME} | rotation | PGD-2 on the rotation loss |`))).toHaveLength(1);
  for (const row of rows) expect(row).not.toMatch(/moco-v2|unknown|MoCo-PGD/);
  expect(readFileSync(join(dir, 'charts', 'comparison.svg'), 'utf8')).toContain(NAME);
  expect(readFileSync(join(dir, 'index.html'), 'utf8')).toContain('PGD-2 on the rotation loss');
}

describe.skipIf(!sample)('a baseline run is labelled as what it is all the way through (tiny preset)', () => {
  it('rotation: pretrain → finetune → eval keep `rotation` and its attack in config, report rows, legends', () => {
    const root = mkdtempSync(join(tmpdir(), 'mr-labels-'));
    const pretrain = runCli(['pretrain', '--preset', 'tiny', '--method', 'rotation', '--out', join(root, 'pretrain')]);
    expect(pretrain.status, pretrain.stderr).toBe(0);
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
    expect(readJson(join(root, 'ft', 'config.json')).pretrain).toMatchObject({
      method: 'rotation',
      attack: { kind: 'pgd' },
    });
    const evaluation = runCli([
      'eval',
      '--preset',
      'tiny',
      '--from',
      join(root, 'ft'),
      '--attacks',
      'clean,pgd',
      '--out',
      join(root, 'eval'),
      '--json',
    ]);
    expect(evaluation.status, evaluation.stderr).toBe(0);
    expectRotationReport(join(root, 'eval'));

    // no --from: adversarial training from scratch, labelled `none`
    const scratch = runCli(['finetune', '--preset', 'tiny', '--set', 'finetune.epochs=1', '--out', join(root, 'none')]);
    expect(scratch.status, scratch.stderr).toBe(0);
    expect(readJson(join(root, 'none', 'config.json')).pretrain).toMatchObject({
      method: 'none',
      attack: { kind: 'none' },
    });
  });

  it('demo with pretrain.method=rotation labels its report the same way', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mr-labels-demo-')), 'demo');
    const demo = runCli([
      'demo',
      '--preset',
      'tiny',
      '--set',
      'pretrain.method=rotation',
      '--set',
      'eval.cifar10c=false',
      '--out',
      out,
      '--json',
    ]);
    expect(demo.status, demo.stderr).toBe(0);
    expectRotationReport(out);
  });
});
