import { gridClaims } from './grid-claims';
import { evaluationLabel, type GridReport } from './grid-report';
import { attackLines, formatDuration, gridColumns } from './grid-report-markdown';
import { formatSummary, type SeedSummary } from './statistics';

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A cell with a mean ± interval (n), shaded red (0 %) to green (100 %) by the mean; per-seed values on hover. */
function summaryCell(summary: SeedSummary | undefined): string {
  if (!summary) return '<td class="num">–</td>';
  const hue = Math.round(120 * Math.min(1, Math.max(0, summary.mean)));
  const values = summary.values.map((v) => (100 * v).toFixed(2)).join(', ');
  const style = `background:hsl(${hue} 70% 88%)`;
  return `<td class="num" style="${style}" title="values: ${values}">${escapeHtml(formatSummary(summary))}</td>`;
}

/** A paired difference cell, green when the interval is above 0, red when below, grey when it spans 0. */
function differenceCell(summary: SeedSummary | undefined): string {
  if (!summary) return '<td class="num">–</td>';
  const low = summary.mean - (summary.halfWidth ?? Number.NaN);
  const high = summary.mean + (summary.halfWidth ?? Number.NaN);
  const tone = low > 0 ? 'above' : high < 0 ? 'below' : 'spans';
  return `<td class="num diff-${tone}">${escapeHtml(formatSummary(summary, 2, true))}</td>`;
}

/** A `<table>` with an id, a head of plain-text titles and rows of ready HTML (`th` first cell + `td`s). */
function table(id: string, titles: readonly string[], rows: readonly string[], className = ''): string {
  const head = titles.map((t) => `<th>${escapeHtml(t)}</th>`).join('');
  const cls = className ? ` class="${className}"` : '';
  return `<table id="${id}"${cls}><thead><tr>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/** A row headed by `label` with ready cells. */
const row = (label: string, cells: readonly string[], className = '') =>
  `<tr${className ? ` class="${className}"` : ''}><th class="row">${escapeHtml(label)}</th>${cells.join('')}</tr>`;
const td = (text: string, className = '') => `<td${className ? ` class="${className}"` : ''}>${escapeHtml(text)}</td>`;

/**
 * The grid report as one HTML page: Table 1 (rows methods, columns architecture × evaluation, clean beside robust),
 * paired differences to MoCo, CIFAR-10-C means, the paper's Table 1 marked quoted, charts (relative URLs), and every
 * cell's status, wall time and full settings.
 */
export function gridReportHtml(report: GridReport, options: { charts?: Record<string, string> } = {}): string {
  const columns = gridColumns(report);
  const titles = columns.map((c) => c.title);
  const table1 = report.rows.map((r) =>
    row(
      r.label,
      columns.map((c) => summaryCell(r.entries[c.key]?.summary)),
    ),
  );
  const compared = report.rows.filter((r) => r.reference);
  const differences = compared.map((r) =>
    row(r.label, [td(r.reference!), ...columns.map((c) => differenceCell(r.entries[c.key]?.difference))]),
  );
  const claims = gridClaims(report).map((c) =>
    row(c.question, [
      td(c.row),
      td(c.versus),
      td(`${c.architecture} ${evaluationLabel(c.evaluation)}`),
      differenceCell(c.difference),
      td(c.verdict),
    ]),
  );
  const corruptionRows = report.rows
    .filter((r) => Object.keys(r.corruptions).length > 0)
    .map((r) =>
      row(
        r.label,
        report.architectures.map((a) => summaryCell(r.corruptions[a]?.mean)),
      ),
    );
  const quoted = report.quoted.map((q) =>
    row(q.method, [
      ...[q.fgsm.resnet18, q.fgsm.resnet50, q.pgd.resnet18, q.pgd.resnet50].map((v) => td(v.toFixed(2), 'num')),
      td(q.pgdSource),
    ]),
  );
  const charts = Object.entries(options.charts ?? {}).map(
    ([caption, url]) =>
      `<figure><img class="chart" src="${escapeHtml(url)}" alt="${escapeHtml(caption)}">` +
      `<figcaption>${escapeHtml(caption)}</figcaption></figure>`,
  );
  const cells = report.cells.map((c) => {
    const settings = escapeHtml(JSON.stringify(c.settings, null, 2));
    return row(
      c.name,
      [
        td(c.method),
        td(c.pretrainAttack),
        td(c.architecture),
        td(String(c.seed), 'num'),
        td(`${c.status}${c.error ? `: ${c.error}` : ''}`),
        td(formatDuration(c.wallTimeSeconds), 'num'),
        `<td><details><summary>settings</summary><pre>${settings}</pre></details></td>`,
      ],
      `status-${c.status}`,
    );
  });
  const done = report.cells.filter((c) => c.status === 'done').length;
  const failed = report.cells.filter((c) => c.status === 'failed').length;
  const quotedTitles = ['method (quoted)', 'FGSM R18', 'FGSM R50', 'PGD R18', 'PGD R50', 'PGD numbers from'];
  const cellTitles = [
    'cell',
    'method',
    'pre-training attack',
    'architecture',
    'seed',
    'status',
    'wall time',
    'settings',
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1280px; padding: 0 16px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; vertical-align: top; }
th.row { text-align: left; font-weight: normal; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.diff-above { background: #dff3e4; } .diff-below { background: #f8dcdc; } .diff-spans { background: #f1f1f1; }
table.quoted { color: #555; font-style: italic; }
.status-failed td, .status-failed th { background: #fde8e8; }
img.chart { max-width: 100%; border: 1px solid #eee; }
.note { color: #555; } pre { font-size: 11px; margin: 4px 0; }
</style></head>
<body>
<h1>${escapeHtml(report.title)}</h1>
<p>${report.cells.length} cells: ${done} done, ${failed} failed, ${report.cells.length - done - failed} not run;
wall time ${formatDuration(report.wallTimeSeconds)}.</p>
<h2>Table 1 <small>(reproduced here)</small></h2>
<p class="note">Accuracy (%): mean ± half-width of the two-sided 95 % Student-t interval over seeds, with n seeds
(n = 1: no interval). Hover a cell for the per-seed values.</p>
${table('table1', ['method', ...titles], table1)}
<ul class="note">${attackLines(report)
    .map((l) => `<li>${escapeHtml(l)}</li>`)
    .join('')}</ul>
${
  compared.length > 0
    ? `<h2>Paired difference to the reference (same seeds)</h2>
<p class="note">Percentage points, row − reference seed by seed; green: the 95 % interval lies above 0, red: below,
grey: it spans 0 or n = 1.</p>
${table('differences', ['method', 'reference', ...titles], differences)}`
    : ''
}
${
  claims.length > 0
    ? `<h2>The paper's claims at this scale</h2>
<p class="note">Paired difference first − second in percentage points over shared seeds, mean ± 95 % t-interval (n);
holds: above 0, reversed: below 0, unresolved: spans 0 or n = 1. FGSM pairs with FGSM-type pre-training, PGD and
AutoAttack with PGD-type, as in the paper's Table 1.</p>
${table('claims', ['claim', 'first', 'second', 'column', 'difference', 'verdict'], claims)}`
    : ''
}
${
  corruptionRows.length > 0
    ? `<h2>CIFAR-10-C <small>(mean over corruptions and severities)</small></h2>
${table('cifar10c', ['method', ...report.architectures], corruptionRows)}`
    : ''
}
<h2>The paper's Table 1 <small>(quoted, not reproduced here)</small></h2>
<p class="note">Robust accuracy (%) as printed in the paper; FGSM pairs with MoCo-FGSM pre-training, PGD with
MoCo-PGD.</p>
${table('quoted', quotedTitles, quoted, 'quoted')}
${charts.join('\n')}
<h2>Cells</h2>
${table('cells', cellTitles, cells)}
</body></html>
`;
}
