import { evaluationLabel, gridRowLabel, type GridReport, type GridRow } from './grid-report';
import { pairedDifference, type PairedDifference } from './statistics';

/** One of the paper's claims tested on a grid: `row − versus` paired over seeds, for one column. */
export interface GridClaim {
  /** The question it answers, e.g. `adversarial MoCo pre-training beats none`. */
  question: string;
  /** Row labels: the side the paper says is better, and the other. */
  row: string;
  versus: string;
  architecture: string;
  evaluation: string;
  difference: PairedDifference;
  /** `holds`: the interval lies above 0; `reversed`: below 0; `unresolved`: it spans 0 (or n = 1). */
  verdict: 'holds' | 'reversed' | 'unresolved';
}

const MOCO = ['moco-v1', 'moco-v2'];
const BASELINES = ['jigsaw', 'rotation', 'selfie', 'rocl'];

/** The pre-training attack Table 1 pairs with an evaluation: FGSM ↔ MoCo-FGSM, PGD and AutoAttack ↔ MoCo-PGD. */
const pairedAttack = (evaluation: string) => (evaluation === 'fgsm' ? 'moco-fgsm' : 'moco-pgd');

function seedValues(row: GridRow | undefined, key: string): Map<number, number> | undefined {
  const entry = row?.entries[key];
  return entry ? new Map(entry.seeds.map((s, i) => [s, entry.summary.values[i]!])) : undefined;
}

/**
 * The paper's claims as paired differences over the seeds both rows share, per architecture and robust evaluation
 * (FGSM, PGD, AutoAttack): adversarial MoCo pre-training beats `none` and each baseline (under the evaluation's
 * paired pre-training attack, as Table 1 pairs them); MoCo-PGD vs MoCo-FGSM pre-training under each evaluation;
 * MoCo-v2 vs MoCo-v1; adversarial vs clean MoCo pre-training. A comparison whose rows are absent is left out; the
 * verdict only reads the interval — it does not say which way the paper hoped.
 */
export function gridClaims(report: GridReport): GridClaim[] {
  const find = (method: string, attack?: string) =>
    report.rows.find((r) => r.method === method && (attack === undefined || r.pretrainAttack === attack));
  const claims: GridClaim[] = [];
  for (const architecture of report.architectures)
    for (const evaluation of report.evaluations.filter((e) => e !== 'clean')) {
      const key = `${architecture}/${evaluation}`;
      const add = (question: string, row: GridRow | undefined, versus: GridRow | undefined) => {
        const a = seedValues(row, key);
        const b = seedValues(versus, key);
        const difference = a && b ? pairedDifference(a, b) : undefined;
        if (!difference || !row || !versus) return;
        const low = difference.halfWidth === undefined ? undefined : difference.mean - difference.halfWidth;
        const high = difference.halfWidth === undefined ? undefined : difference.mean + difference.halfWidth;
        const verdict =
          low !== undefined && low > 0 ? 'holds' : high !== undefined && high < 0 ? 'reversed' : 'unresolved';
        claims.push({ question, row: row.label, versus: versus.label, architecture, evaluation, difference, verdict });
      };
      const attack = pairedAttack(evaluation);
      for (const moco of MOCO) add('adversarial MoCo pre-training beats none', find(moco, attack), find('none'));
      for (const moco of MOCO)
        for (const baseline of BASELINES)
          add(
            `MoCo beats ${gridRowLabel(baseline, attack).split(' · ')[0]}`,
            find(moco, attack),
            baseline === 'rocl' ? find('rocl') : find(baseline, attack),
          );
      for (const moco of MOCO)
        add(
          `MoCo-PGD beats MoCo-FGSM pre-training under ${evaluationLabel(evaluation)}`,
          find(moco, 'moco-pgd'),
          find(moco, 'moco-fgsm'),
        );
      add('MoCo-v2 beats MoCo-v1', find('moco-v2', attack), find('moco-v1', attack));
      for (const moco of MOCO) add('adversarial beats clean MoCo pre-training', find(moco, attack), find(moco, 'none'));
    }
  return claims;
}
