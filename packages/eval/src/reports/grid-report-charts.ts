import { ALL_CORRUPTIONS } from '@moco-robust/data';
import { evaluationLabel, type GridReport } from './grid-report';
import { groupedBarChart, type BarSeries } from './svg-charts';

/** One chart of a grid report: its file name under `charts/`, caption and SVG text. */
export interface GridChart {
  file: string;
  caption: string;
  svg: string;
}

const PAPER_ARCHITECTURES: Record<string, 'resnet18' | 'resnet50'> = { resnet18: 'resnet18', resnet50: 'resnet50' };

/**
 * The grid report's charts, per architecture: Table 1 as bars (mean over seeds of clean and robust accuracy per
 * method; the paper's numbers hatched as quoted for ResNet-18/50) and CIFAR-10-C accuracy per corruption and method,
 * like the paper's Figure 8.
 */
export function gridCharts(report: GridReport): GridChart[] {
  const charts: GridChart[] = [];
  for (const architecture of report.architectures) {
    const series: BarSeries[] = report.rows.map((row) => ({
      name: row.label,
      values: report.evaluations.map((e) => row.entries[`${architecture}/${e}`]?.summary.mean),
      errors: report.evaluations.map((e) => row.entries[`${architecture}/${e}`]?.summary.halfWidth),
    }));
    const paper = PAPER_ARCHITECTURES[architecture];
    if (paper && (report.evaluations.includes('fgsm') || report.evaluations.includes('pgd')))
      for (const q of report.quoted)
        series.push({
          name: `${q.method} (paper)`,
          values: report.evaluations.map((e) =>
            e === 'fgsm' ? q.fgsm[paper] / 100 : e === 'pgd' ? q.pgd[paper] / 100 : undefined,
          ),
          quoted: true,
        });
    if (series.some((s) => s.values.some((v) => v !== undefined)))
      charts.push({
        file: `table1-${architecture}.svg`,
        caption:
          `${architecture}: clean and robust accuracy, mean over seeds with its 95 % t-interval` +
          `${paper ? ' (hatched: quoted)' : ''}`,
        svg: groupedBarChart({
          title: `Clean and robust accuracy — ${architecture} (mean over seeds, whiskers: 95 % t-interval)`,
          categories: report.evaluations.map(evaluationLabel),
          series,
        }),
      });
    const withCorruptions = report.rows.filter((row) => row.corruptions[architecture]);
    if (withCorruptions.length === 0) continue;
    const names = ALL_CORRUPTIONS.filter((name) => withCorruptions.some((r) => r.corruptions[architecture]![name]));
    charts.push({
      file: `cifar10c-${architecture}.svg`,
      caption: `${architecture}: CIFAR-10-C accuracy per corruption and method (mean over severities, then seeds)`,
      svg: groupedBarChart({
        title: `CIFAR-10-C per corruption — ${architecture}`,
        categories: [...names, 'mean'],
        series: withCorruptions.map((row) => ({
          name: row.label,
          values: [...names, 'mean' as const].map((name) => row.corruptions[architecture]![name]?.mean),
        })),
        labels: false,
      }),
    });
  }
  return charts;
}
