import { BENCHMARK_CORRUPTIONS } from '@moco-robust/data';
import type { ExampleGrid } from './examples';
import { evaluatedCorruptions } from './report-markdown';
import { PAPER_TABLE_1, percent, type RunReport } from './run-report';

/** Options of {@link reportHtml}. */
export interface ReportHtmlOptions {
  title?: string;
  /** Charts to show, caption → relative URL of an SVG/PNG file (or a data URL). */
  charts?: Record<string, string>;
  /** The clean / adversarial / corrupted example grid and how to turn an image into a URL (e.g. a PNG data URL). */
  examples?: { grid: ExampleGrid; imageUrl: (rgb: Uint8Array, height: number, width: number) => string };
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A cell shaded from red (0 %) to green (100 %). */
function heatCell(value: number | undefined): string {
  if (value === undefined) return '<td class="num">–</td>';
  const hue = Math.round(120 * Math.min(1, Math.max(0, value)));
  return `<td class="num" style="background:hsl(${hue} 70% 88%)">${percent(value)}</td>`;
}

/** A table head of plain-text column names. */
function headerRow(columns: readonly string[]): string {
  return `<thead><tr>${columns.map((column) => `<th>${escapeHtml(column)}</th>`).join('')}</tr></thead>`;
}

function comparisonTable(runs: readonly RunReport[]): string {
  const rows = runs.map((run) => {
    const r = run.robustness;
    const c = run.corruptions;
    const names = [run.name, run.method, run.pretrainAttack ?? '–', run.model ?? '–'];
    const values = [r?.clean.accuracy, r?.fgsm?.accuracy, r?.pgd?.accuracy, c?.meanBenchmark ?? c?.meanEvaluated];
    return `<tr>${names.map((name) => `<td>${escapeHtml(name)}</td>`).join('')}${values.map(heatCell).join('')}</tr>`;
  });
  const attacks = [
    ...new Set(
      runs
        .flatMap((run) => [run.robustness?.fgsm?.attack, run.robustness?.pgd?.attack])
        .filter((a): a is string => a !== undefined),
    ),
  ];
  return `<h2>Comparison <small>(reproduced here)</small></h2>
<table>${headerRow(['run', 'method', 'pre-training attack', 'model', 'clean', 'FGSM', 'PGD', 'CIFAR-10-C mean'])}
<tbody>${rows.join('\n')}</tbody></table>
${attacks.length ? `<p class="note">Attacks: ${escapeHtml(attacks.join('; '))}.</p>` : ''}`;
}

function quotedTable(): string {
  const rows = PAPER_TABLE_1.map(
    (q) =>
      `<tr><td>${q.method}</td><td class="num">${q.fgsm.resnet18.toFixed(2)}</td><td ` +
      `class="num">${q.fgsm.resnet50.toFixed(2)}</td><td ` +
      `class="num">${q.pgd.resnet18.toFixed(2)}</td><td ` +
      `class="num">${q.pgd.resnet50.toFixed(2)}</td><td>${q.pgdSource}</td></tr>`,
  );
  return `<details><summary>The paper's Table 1 (quoted, not reproduced here)</summary>
<table class="quoted">${headerRow(['method', 'FGSM R18', 'FGSM R50', 'PGD R18', 'PGD R50', 'PGD numbers from'])}
<tbody>${rows.join('\n')}</tbody></table></details>`;
}

function runSection(run: RunReport): string {
  const parts = [`<section><h2>${escapeHtml(run.name)}</h2>`];
  const facts = [
    ['method', run.method],
    ['pre-training attack', run.pretrainAttack],
    ['model', run.model],
    ['protocol', run.protocol],
    ['backend', run.backend],
    ['made', run.createdAt],
  ].filter(([, v]) => v);
  parts.push(`<p class="facts">${facts.map(([k, v]) => `<span><b>${k}</b> ${escapeHtml(v!)}</span>`).join(' ')}</p>`);
  const r = run.robustness;
  if (r) {
    const rows = [r.clean, r.fgsm, r.pgd]
      .filter((a) => a !== undefined)
      .map(
        (a) =>
          `<tr><td>${escapeHtml(a.attack)}</td>${heatCell(a.accuracy)}<td ` +
          `class="num">${a.correct} / ${a.total}</td></tr>`,
      );
    parts.push(
      `<h3>Robust accuracy</h3><table><thead><tr><th>evaluation</th><th>accuracy</th><th>correct ` +
        `/ total</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
    for (const warning of r.warnings) parts.push(`<p class="warning">⚠ ${escapeHtml(warning)}</p>`);
  }
  const c = run.corruptions;
  if (c) {
    const rows = evaluatedCorruptions(c).map((name) => {
      const cells = [1, 2, 3, 4, 5].map((s) =>
        heatCell(c.results.find((e) => e.corruption === name && e.severity === s)?.accuracy),
      );
      const extra = (BENCHMARK_CORRUPTIONS as readonly string[]).includes(name) ? '' : ' <small>(extra)</small>';
      return `<tr><td>${name}${extra}</td>${cells.join('')}${heatCell(c.perCorruption[name])}</tr>`;
    });
    parts.push(
      `<h3>CIFAR-10-C ` +
        `<small>(${c.source === 'official' ? 'official arrays' : 'generated on the fly'})</small></h3>
<table>${headerRow(['corruption', 's1', 's2', 's3', 's4', 's5', 'mean'])}<tbody>${rows.join('\n')}</tbody></table>
<p>${
          c.meanBenchmark === undefined
            ? `Mean over the ${c.results.length} evaluated pairs: <b>${percent(c.meanEvaluated)}%</b>`
            : `Mean over the 15 benchmark corruptions × 5 severities: <b>${percent(c.meanBenchmark)}%</b>`
        }</p>`,
    );
    for (const s of c.skipped)
      parts.push(`<p class="note">${escapeHtml(s.corruption)} skipped: ${escapeHtml(s.reason)}</p>`);
  }
  for (const note of run.notes) parts.push(`<p class="note">${escapeHtml(note)}</p>`);
  parts.push('</section>');
  return parts.join('\n');
}

function exampleGrid({ grid, imageUrl }: NonNullable<ReportHtmlOptions['examples']>): string {
  const size = grid.height * grid.width * 3;
  const header = Array.from(
    grid.labels,
    (label) => `<th>${escapeHtml(grid.classes[label] ?? String(label))}</th>`,
  ).join('');
  const rows = grid.rows.map((row) => {
    const cells = Array.from({ length: grid.count }, (_, i) => {
      const predicted = row.predictions[i];
      const right = predicted === grid.labels[i];
      const url = imageUrl(row.images.subarray(i * size, (i + 1) * size), grid.height, grid.width);
      return (
        `<td><img class="example" src="${url}" width="${grid.width * 3}" ` +
        `height="${grid.height * 3}" alt="${escapeHtml(`${row.title} ${i}`)}"><br><span ` +
        `class="${right ? 'right' : 'wrong'}">${escapeHtml(grid.classes[predicted] ?? String(predicted))}</span></td>`
      );
    });
    return `<tr><th class="row">${escapeHtml(row.title)}</th>${cells.join('')}</tr>`;
  });
  return (
    `<section><h2>Examples</h2><p class="note">The model's prediction under ` +
    `each image (green: right, red: wrong); columns are the true classes.</p>
<table class="grid"><thead><tr><th></th>${header}</tr></thead><tbody>${rows.join('\n')}</tbody></table></section>`
  );
}

/** A self-contained HTML page of one or several runs: comparison table, charts, per-run tables and the example grid. */
export function reportHtml(runs: readonly RunReport[], options: ReportHtmlOptions = {}): string {
  const title = options.title ?? 'moco-robust report';
  const charts = Object.entries(options.charts ?? {}).map(
    ([caption, url]) =>
      `<figure><img class="chart" src="${escapeHtml(url)}" ` +
      `alt="${escapeHtml(caption)}"><figcaption>${escapeHtml(caption)}</figcaption></figure>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.grid td { text-align: center; font-size: 12px; }
img.example { image-rendering: pixelated; display: block; margin: auto; }
img.chart { max-width: 100%; border: 1px solid #eee; }
.right { color: #1a7f37; } .wrong { color: #c62828; font-weight: bold; }
.warning { color: #a04000; } .note { color: #555; } .facts span { margin-right: 14px; }
figure { margin: 12px 0; }
</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
${runs.some((r) => r.robustness || r.corruptions) ? comparisonTable(runs) : ''}
${quotedTable()}
${charts.join('\n')}
${runs.map(runSection).join('\n')}
${options.examples ? exampleGrid(options.examples) : ''}
</body></html>
`;
}
