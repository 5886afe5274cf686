import type { GridReport } from './grid-report';
import { attackLines, formatDuration, gridColumns } from './grid-report-markdown';
import { formatSummary, type SeedSummary } from './statistics';

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A table cell with a mean ± interval (n), shaded red (0 %) to green (100 %) by the mean. */
function summaryCell(summary: SeedSummary | undefined, shade = true): string {
  if (!summary) return '<td class="num">–</td>';
  const hue = Math.round(120 * Math.min(1, Math.max(0, summary.mean)));
  const style = shade ? ` style="background:hsl(${hue} 70% 88%)"` : '';
  return `<td class="num"${style} title="values: ${summary.values.map((v) => (100 * v).toFixed(2)).join(', ')}">${escapeHtml(formatSummary(summary))}</td>`;
}

/** A paired difference cell, green when the interval is above 0, red when below, grey when it spans 0. */
function differenceCell(summary: SeedSummary | undefined): string {
  if (!summary) return '<td class="num">–</td>';
  const low = summary.mean - (summary.halfWidth ?? Number.NaN);
  const high = summary.mean + (summary.halfWidth ?? Number.NaN);
  const tone = low > 0 ? 'above' : high < 0 ? 'below' : 'spans';
  return `<td class="num diff-${tone}">${escapeHtml(formatSummary(summary, 2, true))}</td>`;
}

/**
 * The grid report as one HTML page: Table 1 (rows methods, columns architecture × evaluation, clean beside robust),
 * paired differences to MoCo, CIFAR-10-C means, the paper's Table 1 marked quoted, charts (relative URLs), and every
 * cell's status, wall time and full settings.
 */
export function gridReportHtml(report: GridReport, options: { charts?: Record<string, string> } = {}): string {
  const columns = gridColumns(report);
  const head = (cells: string[]) => `<thead><tr>${cells.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>`;
  const table1 = report.rows.map(
    (row) =>
      `<tr><th class="row">${escapeHtml(row.label)}</th>${columns.map((c) => summaryCell(row.entries[c.key]?.summary)).join('')}</tr>`,
  );
  const compared = report.rows.filter((r) => r.reference);
  const differences = compared.map(
    (row) =>
      `<tr><th class="row">${escapeHtml(row.label)}</th><td>${escapeHtml(row.reference!)}</td>` +
      `${columns.map((c) => differenceCell(row.entries[c.key]?.difference)).join('')}</tr>`,
  );
  const corruptionRows = report.rows.filter((r) => Object.keys(r.corruptions).length > 0);
  const quoted = report.quoted.map(
    (q) =>
      `<tr><th class="row">${escapeHtml(q.method)}</th>${[
        q.fgsm.resnet18,
        q.fgsm.resnet50,
        q.pgd.resnet18,
        q.pgd.resnet50,
      ]
        .map((v) => `<td class="num">${v.toFixed(2)}</td>`)
        .join('')}<td>${escapeHtml(q.pgdSource)}</td></tr>`,
  );
  const charts = Object.entries(options.charts ?? {}).map(
    ([caption, url]) =>
      `<figure><img class="chart" src="${escapeHtml(url)}" alt="${escapeHtml(caption)}"><figcaption>${escapeHtml(caption)}</figcaption></figure>`,
  );
  const cells = report.cells.map(
    (c) =>
      `<tr class="status-${c.status}"><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.method)}</td><td>${escapeHtml(c.pretrainAttack)}</td>` +
      `<td>${escapeHtml(c.architecture)}</td><td class="num">${c.seed}</td><td>${escapeHtml(c.status)}${c.error ? `: ${escapeHtml(c.error)}` : ''}</td>` +
      `<td class="num">${formatDuration(c.wallTimeSeconds)}</td><td><details><summary>settings</summary><pre>${escapeHtml(
        JSON.stringify(c.settings, null, 2),
      )}</pre></details></td></tr>`,
  );
  const done = report.cells.filter((c) => c.status === 'done').length;
  const failed = report.cells.filter((c) => c.status === 'failed').length;
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
.status-failed td { background: #fde8e8; }
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
<table id="table1">${head(['method', ...columns.map((c) => c.title)])}<tbody>${table1.join('\n')}</tbody></table>
<ul class="note">${attackLines(report)
    .map((l) => `<li>${escapeHtml(l)}</li>`)
    .join('')}</ul>
${
  compared.length > 0
    ? `<h2>Paired difference to the reference (same seeds)</h2>
<p class="note">Percentage points, row − reference seed by seed; green: the 95 % interval lies above 0, red: below,
grey: it spans 0 or n = 1.</p>
<table id="differences">${head(['method', 'reference', ...columns.map((c) => c.title)])}<tbody>${differences.join('\n')}</tbody></table>`
    : ''
}
${
  corruptionRows.length > 0
    ? `<h2>CIFAR-10-C <small>(mean over corruptions and severities)</small></h2>
<table id="cifar10c">${head(['method', ...report.architectures])}<tbody>${corruptionRows
        .map(
          (r) =>
            `<tr><th class="row">${escapeHtml(r.label)}</th>${report.architectures.map((a) => summaryCell(r.corruptions[a]?.mean)).join('')}</tr>`,
        )
        .join('\n')}</tbody></table>`
    : ''
}
<h2>The paper's Table 1 <small>(quoted, not reproduced here)</small></h2>
<p class="note">Robust accuracy (%) as printed in the paper; FGSM pairs with MoCo-FGSM pre-training, PGD with MoCo-PGD.</p>
<table class="quoted" id="quoted">${head(['method (quoted)', 'FGSM R18', 'FGSM R50', 'PGD R18', 'PGD R50', 'PGD numbers from'])}<tbody>${quoted.join('\n')}</tbody></table>
${charts.join('\n')}
<h2>Cells</h2>
<table id="cells">${head(['cell', 'method', 'pre-training attack', 'architecture', 'seed', 'status', 'wall time', 'settings'])}<tbody>${cells.join('\n')}</tbody></table>
</body></html>
`;
}
