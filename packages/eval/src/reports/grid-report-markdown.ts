import { gridClaims } from './grid-claims';
import { evaluationLabel, type GridReport } from './grid-report';
import { formatSummary } from './statistics';

/** `1234.5` s → `20 min 34 s`. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

/** The columns of the grid's Table 1: architecture × evaluation. */
export function gridColumns(report: GridReport): Array<{ key: string; title: string }> {
  return report.architectures.flatMap((a) =>
    report.evaluations.map((e) => ({ key: `${a}/${e}`, title: `${a} ${evaluationLabel(e)}` })),
  );
}

/** The attack behind every evaluation column, as `FGSM: FGSM (ε 8/255)`. */
export function attackLines(report: GridReport): string[] {
  return report.evaluations.map((e) => {
    const attacks = new Set(
      report.rows.flatMap((r) => report.architectures.flatMap((a) => r.entries[`${a}/${e}`]?.attacks ?? [])),
    );
    return `${evaluationLabel(e)}: ${[...attacks].join('; ') || '–'}`;
  });
}

/**
 * The grid report as Markdown: Table 1 (mean ± 95 % t-interval over seeds, n), paired differences to MoCo,
 * CIFAR-10-C means, the paper's Table 1 marked quoted, the charts, and every cell's settings and wall time.
 */
export function gridReportMarkdown(report: GridReport, options: { charts?: Record<string, string> } = {}): string {
  const columns = gridColumns(report);
  const done = report.cells.filter((c) => c.status === 'done').length;
  const failed = report.cells.filter((c) => c.status === 'failed').length;
  const lines = [
    `# ${report.title}`,
    '',
    `${report.cells.length} cells: ${done} done, ${failed} failed, ` +
      `${report.cells.length - done - failed} not run; wall time ${formatDuration(report.wallTimeSeconds)}.`,
    '',
    '## Table 1 (reproduced here)',
    '',
    'Accuracy (%) on the test images: mean ± half-width of the two-sided 95 % Student-t interval over seeds, ' +
      'with n seeds (n = 1: no interval).',
    '',
    `| method | ${columns.map((c) => c.title).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const row of report.rows)
    lines.push(`| ${row.label} | ${columns.map((c) => formatSummary(row.entries[c.key]?.summary)).join(' | ')} |`);
  lines.push('', ...attackLines(report).map((l) => `- ${l}`));
  const compared = report.rows.filter((r) => r.reference);
  if (compared.length > 0) {
    lines.push(
      '',
      `## Paired difference to ${compared[0]!.reference?.split(' · ')[0] ?? 'MoCo'} (same seeds)`,
      '',
      'Percentage points, `row − reference` seed by seed, mean ± 95 % t-interval over the shared seeds (n).',
      '',
      `| method | reference | ${columns.map((c) => c.title).join(' | ')} |`,
      `|---|---|${columns.map(() => '---:').join('|')}|`,
    );
    for (const row of compared)
      lines.push(
        `| ${row.label} | ${row.reference} | ` +
          `${columns.map((c) => formatSummary(row.entries[c.key]?.difference, 2, true)).join(' | ')} |`,
      );
  }
  const claims = gridClaims(report);
  if (claims.length > 0) {
    lines.push(
      '',
      "## The paper's claims at this scale",
      '',
      'Each claim as the paired difference `first − second` in percentage points over the seeds both share, ' +
        'mean ± 95 % t-interval (n). holds: the interval lies above 0; reversed: below 0; unresolved: it spans 0 ' +
        'or n = 1. FGSM pairs with FGSM-type pre-training, PGD and AutoAttack with PGD-type, as in the paper’s ' +
        'Table 1.',
      '',
      '| claim | first | second | column | difference | verdict |',
      '|---|---|---|---|---:|---|',
      ...claims.map(
        (c) =>
          `| ${c.question} | ${c.row} | ${c.versus} | ${c.architecture} ${evaluationLabel(c.evaluation)} | ` +
          `${formatSummary(c.difference, 2, true)} | ${c.verdict} |`,
      ),
    );
  }
  const corruptionRows = report.rows.filter((r) => Object.keys(r.corruptions).length > 0);
  if (corruptionRows.length > 0) {
    lines.push(
      '',
      '## CIFAR-10-C (mean over corruptions and severities)',
      '',
      `| method | ${report.architectures.join(' | ')} |`,
      `|---|${report.architectures.map(() => '---:').join('|')}|`,
    );
    for (const row of corruptionRows)
      lines.push(
        `| ${row.label} | ${report.architectures.map((a) => formatSummary(row.corruptions[a]?.mean)).join(' | ')} |`,
      );
  }
  lines.push(
    '',
    "## The paper's Table 1 (quoted, not reproduced here)",
    '',
    'Robust accuracy (%) as printed in the paper; its FGSM column pairs with MoCo-FGSM pre-training and its PGD ' +
      'column with MoCo-PGD pre-training.',
    '',
    '| method | FGSM R18 | FGSM R50 | PGD R18 | PGD R50 | PGD numbers from |',
    '|---|---:|---:|---:|---:|---|',
    ...report.quoted.map(
      (q) =>
        `| ${q.method} | ${q.fgsm.resnet18.toFixed(2)} | ${q.fgsm.resnet50.toFixed(2)} | ` +
        `${q.pgd.resnet18.toFixed(2)} | ${q.pgd.resnet50.toFixed(2)} | ${q.pgdSource} |`,
    ),
  );
  for (const [caption, url] of Object.entries(options.charts ?? {})) lines.push('', `![${caption}](${url})`);
  lines.push(
    '',
    '## Cells',
    '',
    '| cell | method | pre-training attack | architecture | seed | status | wall time | settings |',
    '|---|---|---|---|---:|---|---:|---|',
  );
  for (const c of report.cells)
    lines.push(
      `| ${c.name} | ${c.method} | ${c.pretrainAttack} | ${c.architecture} | ${c.seed} | ` +
        `${c.status}${c.error ? `: ${c.error.replace(/\|/g, '\\|')}` : ''} | ${formatDuration(c.wallTimeSeconds)} | ` +
        `[config.json](cells/${c.name}/config.json) |`,
    );
  return `${lines.join('\n')}\n`;
}
