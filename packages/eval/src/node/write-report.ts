import { join } from 'node:path';
import { atomicWriteFile } from '@moco-robust/core';
import type { ExampleGrid } from '../reports/examples';
import { reportHtml } from '../reports/report-html';
import { reportMarkdown } from '../reports/report-markdown';
import type { RunReport } from '../reports/run-report';
import { comparisonChart, corruptionChart } from '../reports/svg-charts';
import { pngDataUrl } from './png';

/** Paths of the files {@link writeReport} wrote. */
export interface WrittenReport {
  json: string;
  markdown: string;
  html: string;
  charts: string[];
}

/**
 * Writes the report of one or several runs into `dir`: `report.json` (the runs, for machines),
 * `report.md`, SVG charts under `charts/` (accuracy per corruption like the paper's Figures 5–8;
 * clean/FGSM/PGD comparison like its Table 1, with the paper's numbers hatched as quoted) and
 * `index.html`, which shows them with the clean / adversarial / corrupted example grid. Every file
 * is written atomically.
 */
export async function writeReport(
  dir: string,
  runs: readonly RunReport[],
  options: { title?: string; examples?: ExampleGrid; quoted?: boolean } = {},
): Promise<WrittenReport> {
  const charts: Record<string, string> = {};
  const written: string[] = [];
  if (runs.some((r) => r.robustness)) {
    await atomicWriteFile(
      join(dir, 'charts', 'comparison.svg'),
      comparisonChart(runs, { quoted: options.quoted ?? true }),
    );
    charts['Clean and robust accuracy (hatched: the paper’s Table 1, ResNet-18, quoted)'] = 'charts/comparison.svg';
  }
  if (runs.some((r) => r.corruptions)) {
    await atomicWriteFile(join(dir, 'charts', 'corruptions.svg'), corruptionChart(runs));
    charts['CIFAR-10-C accuracy per corruption, mean over severities'] = 'charts/corruptions.svg';
  }
  for (const file of Object.values(charts)) written.push(join(dir, file));
  const paths = { json: join(dir, 'report.json'), markdown: join(dir, 'report.md'), html: join(dir, 'index.html') };
  await atomicWriteFile(paths.json, `${JSON.stringify({ schema: 'moco-robust/reports@1', runs }, null, 2)}\n`);
  await atomicWriteFile(paths.markdown, reportMarkdown(runs, { title: options.title, charts }));
  await atomicWriteFile(
    paths.html,
    reportHtml(runs, {
      title: options.title,
      charts,
      examples: options.examples && { grid: options.examples, imageUrl: pngDataUrl },
    }),
  );
  return { ...paths, charts: written };
}
