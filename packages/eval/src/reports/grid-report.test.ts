import { describe, expect, it } from 'vitest';
import type { RobustnessResult } from '../evaluate-robustness';
import { createGridReport, type GridCellRecord } from './grid-report';
import { gridCharts } from './grid-report-charts';
import { gridReportHtml } from './grid-report-html';
import { gridReportMarkdown } from './grid-report-markdown';
import { groupedBarChart } from './svg-charts';
import { createRunReport } from './run-report';
import { accuracyResult } from './test-helpers/accuracy-result';

/** A finished cell with clean / FGSM / PGD accuracy and a CIFAR-10-C mean. */
function cell(
  method: string,
  attack: string,
  seed: number,
  [clean, fgsm, pgd]: number[],
  status = 'done',
): GridCellRecord {
  const robustness = {
    clean: accuracyResult('clean', clean!),
    fgsm: accuracyResult('FGSM (ε 8/255)', fgsm!),
    pgd: accuracyResult('PGD-20 (ε 8/255, step 2/255)', pgd!),
  } as RobustnessResult;
  return {
    name: `${method}.${attack}.resnet18.s${seed}.abc`,
    method,
    pretrainAttack: attack,
    architecture: 'resnet18',
    seed,
    status: status as 'done',
    wallTimeSeconds: 100 + seed,
    settings: { seed, pretrain: { method } },
    report:
      status === 'done'
        ? createRunReport({
            name: method,
            method,
            robustness,
            corruptions: {
              source: 'generated',
              results: [],
              perCorruption: { fog: clean! - 0.1 },
              meanEvaluated: clean! - 0.2,
              skipped: [],
            },
          })
        : undefined,
  };
}

const cells: GridCellRecord[] = [
  cell('none', 'none', 0, [0.5, 0.3, 0.2]),
  cell('moco-v1', 'moco-pgd', 0, [0.6, 0.35, 0.3]),
  cell('none', 'none', 1, [0.52, 0.31, 0.22]),
  cell('moco-v1', 'moco-pgd', 1, [0.62, 0.36, 0.29]),
  cell('none', 'none', 2, [0.51, 0.32, 0.24]),
  cell('moco-v1', 'moco-pgd', 2, [0.61, 0.37, 0.31]),
  cell('jigsaw', 'moco-pgd', 0, [0.55, 0.33, 0.25]),
  { ...cell('rotation', 'moco-pgd', 0, [0, 0, 0], 'failed'), error: 'PluginError: not installed' },
];

describe('grid report', () => {
  const report = createGridReport(cells, { title: 'test grid', createdAt: '2026-01-01T00:00:00Z' });

  it('puts methods in rows and architecture × evaluation in columns, means over seeds with n', () => {
    expect(report.rows.map((r) => r.label)).toEqual([
      'none (adversarial training from scratch)',
      'MoCo · MoCo-PGD pre-training',
      'Jigsaw · PGD pre-training',
      'Rotation · PGD pre-training',
    ]);
    expect(report.evaluations).toEqual(['clean', 'fgsm', 'pgd']);
    const none = report.rows[0]!.entries['resnet18/pgd']!;
    expect(none.seeds).toEqual([0, 1, 2]);
    expect(none.summary.mean).toBeCloseTo(0.22, 12);
    expect(none.summary.n).toBe(3);
    // PGD of none − MoCo per seed: −0.1, −0.07, −0.07
    expect(none.difference!.values.map((v) => Number(v.toFixed(10)))).toEqual([-0.1, -0.07, -0.07]);
    expect(none.attacks).toEqual(['PGD-20 (ε 8/255, step 2/255)']);
    expect(report.rows[1]!.entries['resnet18/pgd']!.difference).toBeUndefined(); // the reference itself
    const jigsaw = report.rows[2]!.entries['resnet18/clean']!;
    expect(jigsaw.summary).toEqual({ mean: 0.55, n: 1, values: [0.55] });
    expect(jigsaw.difference!.seeds).toEqual([0]);
    expect(jigsaw.difference!.mean).toBeCloseTo(-0.05, 12);
    expect(report.rows[3]!.entries).toEqual({});
    expect(report.rows[0]!.corruptions.resnet18!.fog!.mean).toBeCloseTo(0.41, 12);
    expect(report.wallTimeSeconds).toBe(100 * 8 + 0 + 1 + 0 + 1 + 2 + 2 + 0 + 0);
  });

  it('Markdown and HTML show n, intervals, n = 1 without one, quoted Table 1, failures and settings', () => {
    const md = gridReportMarkdown(report);
    expect(md).toMatch(/\| Jigsaw · PGD pre-training \| 55\.00 \(n=1\) \| 33\.00 \(n=1\) \| 25\.00 \(n=1\) \|/);
    expect(md).toMatch(/\| none \(adversarial training from scratch\) \| 51\.00 ± 2\.48 \(n=3\) \|/);
    expect(md).toMatch(/## The paper's Table 1 \(quoted, not reproduced here\)/);
    expect(md).toMatch(/\| MoCo \| 69\.90 \| 86\.23 \| 51\.40 \| 52\.40 \| the paper \|/);
    expect(md).toMatch(/failed: PluginError: not installed/);
    expect(md).toMatch(/PGD: PGD-20 \(ε 8\/255, step 2\/255\)/);
    const html = gridReportHtml(report, { charts: { 'a chart': 'charts/x.svg' } });
    expect(html).toMatch(/<table id="quoted" class="quoted">/);
    expect(html).toContain('51.00 ± 2.48 (n=3)');
    expect(html).toContain('&quot;method&quot;: &quot;moco-v1&quot;');
    expect(html).toContain('<img class="chart" src="charts/x.svg"');
  });

  it('charts Table 1 per architecture (quoted hatched) and CIFAR-10-C per corruption and method', () => {
    const charts = gridCharts(report);
    expect(charts.map((c) => c.file)).toEqual(['table1-resnet18.svg', 'cifar10c-resnet18.svg']);
    expect(charts[0]!.svg).toContain('MoCo-v2 (paper) (quoted)');
    expect(charts[1]!.svg).toContain('>fog<');
    // a whisker per measured bar with an interval (n > 1), none for n = 1 or for the quoted numbers
    const withInterval = report.rows.flatMap((row) =>
      report.evaluations.filter((e) => row.entries[`resnet18/${e}`]?.summary.halfWidth !== undefined),
    );
    expect(charts[0]!.svg.match(/class="interval"/g) ?? []).toHaveLength(withInterval.length);
    expect(withInterval.length).toBeGreaterThan(0);
  });

  it('gives each of up to 24 series its own look and keeps the legend and title inside the chart', () => {
    const names = Array.from({ length: 20 }, (_, i) => `method number ${i} · a long pre-training label`);
    const svg = groupedBarChart({
      title: 'A title long enough to be wider than the plot of two categories, which used to be clipped',
      categories: ['clean', 'PGD'],
      series: names.map((name, i) => ({ name, values: [0.5, 0.2 + i / 100], errors: [0.01, undefined] })),
    });
    const fills = [
      ...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="12" height="12" fill="([^"]+)" stroke="([^"]+)"/g),
    ];
    expect(fills).toHaveLength(20);
    expect(new Set(fills.map(([, fill, stroke]) => `${fill} ${stroke}`)).size).toBe(20);
    expect(svg.match(/<pattern id="series-\d+"/g)).toHaveLength(12); // 8 solid, 8 striped, 4 dotted
    expect(svg.match(/class="interval"/g)).toHaveLength(20); // clean only
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    expect(width).toBeGreaterThanOrEqual(56 + 8.6 * 89);
    const legendX = [...svg.matchAll(/<text x="([\d.]+)" y="\d+">method number/g)].map((m) => Number(m[1]));
    expect(Math.max(...legendX)).toBeLessThan(width - 200);
  });
});
