import { describe, expect, it } from 'vitest';
import type { RobustnessResult } from '../evaluate-robustness';
import { gridClaims } from './grid-claims';
import { createGridReport, type GridCellRecord } from './grid-report';
import { gridReportMarkdown } from './grid-report-markdown';
import { createRunReport } from './run-report';
import { accuracyResult } from './test-helpers/accuracy-result';

/** A finished cell with FGSM and PGD accuracy. */
function cell(method: string, attack: string, seed: number, fgsm: number, pgd: number): GridCellRecord {
  const robustness = {
    clean: accuracyResult('clean', 0.8),
    fgsm: accuracyResult('FGSM (ε 8/255)', fgsm),
    pgd: accuracyResult('PGD-20', pgd),
  } as RobustnessResult;
  return {
    name: `${method}.${attack}.r.s${seed}`,
    method,
    pretrainAttack: attack,
    architecture: 'r',
    seed,
    status: 'done',
    settings: {},
    report: createRunReport({ name: method, method, robustness }),
  };
}

describe('gridClaims', () => {
  // PGD: MoCo-PGD beats none by 0.10, 0.12, 0.08 (clearly); ties Rotation (+0.01, −0.01, 0); FGSM: MoCo-FGSM loses
  const cells = [0, 1, 2].flatMap((s) => [
    cell('none', 'none', s, 0.3, 0.2 + s / 100),
    cell('moco-v1', 'moco-pgd', s, 0.31, [0.3, 0.33, 0.3][s]!),
    cell('moco-v1', 'moco-fgsm', s, [0.2, 0.22, 0.21][s]!, 0.1),
    cell('rotation', 'moco-pgd', s, 0.3, [0.29, 0.34, 0.3][s]!),
  ]);
  const report = createGridReport(cells);
  const claims = gridClaims(report);
  const find = (question: string, evaluation: string) =>
    claims.find((c) => c.question === question && c.evaluation === evaluation);

  it('pairs MoCo with none and each baseline by seed, as hand-computed t-intervals, with a verdict', () => {
    const beatsNone = find('adversarial MoCo pre-training beats none', 'pgd')!;
    expect(beatsNone).toMatchObject({ row: 'MoCo · MoCo-PGD pre-training', versus: report.rows[0]!.label });
    expect(beatsNone.difference.seeds).toEqual([0, 1, 2]);
    // differences 0.10, 0.12, 0.08: mean 0.10, s = 0.02, t(0.975, 2) = 4.302653 → half-width 0.0496831
    expect(beatsNone.difference.mean).toBeCloseTo(0.1, 12);
    expect(beatsNone.difference.halfWidth).toBeCloseTo((4.302653 * 0.02) / Math.sqrt(3), 6);
    expect(beatsNone.verdict).toBe('holds');
    expect(find('MoCo beats Rotation', 'pgd')).toMatchObject({ verdict: 'unresolved' });
    // under FGSM the paper pairs MoCo-FGSM pre-training: 0.20–0.22 against none's 0.30
    expect(find('adversarial MoCo pre-training beats none', 'fgsm')).toMatchObject({
      row: 'MoCo · MoCo-FGSM pre-training',
      verdict: 'reversed',
    });
    expect(find('MoCo-PGD beats MoCo-FGSM pre-training under PGD', 'pgd')).toMatchObject({ verdict: 'holds' });
    // rows absent from the grid give no claim (no MoCo-v2, no clean pre-training, no Rotation under FGSM)
    expect(claims.some((c) => c.question.includes('v2') || c.question.includes('clean'))).toBe(false);
    expect(find('MoCo beats Rotation', 'fgsm')).toBeUndefined();
    expect(claims.some((c) => c.evaluation === 'clean')).toBe(false);
  });

  it('the Markdown report lists every claim with its interval', () => {
    const md = gridReportMarkdown(report);
    expect(md).toContain("## The paper's claims at this scale");
    expect(md).toContain(
      '| adversarial MoCo pre-training beats none | MoCo · MoCo-PGD pre-training | none (adversarial training from ' +
        'scratch) | r PGD | +10.00 ± 4.97 (n=3) | holds |',
    );
    expect(md.match(/^\| .* \| (holds|reversed|unresolved) \|$/gm)).toHaveLength(claims.length);
  });
});
