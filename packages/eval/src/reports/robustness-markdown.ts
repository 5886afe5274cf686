import type { AccuracyResult, RobustnessResult } from '../evaluate-robustness';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/** A Markdown table of a robustness evaluation: one row per attack with the attack's settings, then any warnings. */
export function robustnessMarkdown(result: RobustnessResult, title = 'Robustness'): string {
  const rows = [result.clean, result.fgsm, result.pgd, result.autoAttack].filter(
    (r): r is AccuracyResult => r !== undefined,
  );
  const lines = [`## ${title}`, '', '| evaluation | accuracy | correct / total |', '|---|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.attack} | ${pct(r.accuracy)} | ${r.correct} / ${r.total} |`);
  if (result.autoAttack) {
    const stages = result.autoAttack.cascade.map((s) => `${s.attack} broke ${s.broke} of ${s.attacked}`);
    lines.push('', `AutoAttack cascade (each attack runs on the points still robust): ${stages.join(' → ')}.`);
    for (const note of result.autoAttack.notes) lines.push(`${note}`);
  }
  if (result.warnings.length > 0) {
    lines.push('', '**Warnings (possible gradient masking):**', '');
    for (const w of result.warnings) lines.push(`- ${w}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The same table as aligned plain text, for a terminal. */
export function robustnessTable(result: RobustnessResult): string {
  const rows = [result.clean, result.fgsm, result.pgd, result.autoAttack].filter(
    (r): r is AccuracyResult => r !== undefined,
  );
  const width = Math.max(...rows.map((r) => r.attack.length));
  return rows
    .map((r) => `  ${r.attack.padEnd(width)}  ${pct(r.accuracy).padStart(7)}  (${r.correct}/${r.total})`)
    .join('\n');
}
