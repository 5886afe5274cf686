import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifarSampleDir } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDenseModel } from './dense-model';
import { runCli } from './run-cli';

// `eval --autoattack cpu|standard` on the real CLI: the flag sets eval.autoAttackVersion (as `grid --autoattack`
// does), adds AutoAttack to the evaluations, and the report names the version and its cascade. A linear model on 64
// test images and 3 APGD iterations keep it to seconds.
const sample = cifarSampleDir();
const SMALL = ['--preset', 'tiny', '--set', 'data.testImages=64', '--set', 'eval.autoAttackSteps=3'];

describe.skipIf(!sample)('eval --autoattack', () => {
  let root = '';
  let model = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mr-eval-autoattack-'));
    // varied predictions: weights from a fixed formula
    const weight = (i: number) => 0.01 * Math.sin(i * 0.7);
    model = join(writeDenseModel(join(root, 'model'), [32, 32, 3], 10, weight), 'model.json');
  });

  it('--autoattack cpu adds AutoAttack (APGD-CE → APGD-T) to the evaluations and names it in the report', () => {
    const out = join(root, 'cpu');
    const result = runCli([
      'eval',
      ...SMALL,
      '--from',
      model,
      '--attacks',
      'clean',
      '--autoattack',
      'cpu',
      '--out',
      out,
    ]);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).runs[0];
    const autoAttack = report.robustness.autoAttack;
    expect(autoAttack.attack).toMatch(/^AutoAttack cpu \(L∞, ε=8\/255, APGD 3 iterations\)/);
    expect(autoAttack.total).toBe(64);
    expect(autoAttack.cascade.map((s: { attack: string }) => s.attack)).toEqual(['apgd-ce', 'apgd-t']);
    // each stage attacks what the one before left: its points are the robust points after the previous stage
    const [ce, t] = autoAttack.cascade;
    expect(ce.attacked).toBe(report.robustness.clean.correct);
    expect(t.attacked).toBe(ce.attacked - ce.broke);
    expect(autoAttack.correct).toBe(t.attacked - t.broke);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.eval.autoAttackVersion).toBe('cpu');
    expect(config.evaluation.attacks).toBe('clean,autoattack');
    const markdown = readFileSync(join(out, 'report.md'), 'utf8');
    expect(markdown).toMatch(/AutoAttack cpu/);
    expect(markdown).toMatch(
      /AutoAttack cascade \(each attack runs on the points still robust\): apgd-ce broke \d+ of/,
    );
    expect(result.stdout).toMatch(/AutoAttack cpu/);
  });

  it('--set eval.autoAttackVersion=cpu with --attacks …,autoattack is the same evaluation', () => {
    const out = join(root, 'set');
    const result = runCli([
      'eval',
      ...SMALL,
      '--from',
      model,
      '--attacks',
      'clean,autoattack',
      '--set',
      'eval.autoAttackVersion=cpu',
      '--out',
      out,
      '--json',
    ]);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    const flagged = JSON.parse(readFileSync(join(root, 'cpu', 'report.json'), 'utf8')).runs[0];
    expect(report.robustness.autoAttack.attack).toBe(flagged.robustness.autoAttack.attack);
    expect(report.robustness.autoAttack.cascade).toEqual(flagged.robustness.autoAttack.cascade);
  });

  it('refuses a version other than standard or cpu, naming the flag', () => {
    const result = runCli(['eval', ...SMALL, '--from', model, '--autoattack', 'full', '--out', join(root, 'full')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--autoattack must be one of standard, cpu; got 'full'/);
  });
});
