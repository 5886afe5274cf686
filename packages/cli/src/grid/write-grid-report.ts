import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@moco-robust/core';
import { createGridReport, gridCharts, gridReportHtml, gridReportMarkdown, type GridReport } from '@moco-robust/eval';
import { readGridCells, type GridFile } from './run-grid';

/** Paths of the files {@link writeGridReport} wrote. */
export interface WrittenGridReport {
  json: string;
  markdown: string;
  html: string;
  charts: string[];
  report: GridReport;
}

/**
 * Reads the grid in `dir` (grid.json and every cell's status, config and result) and writes its report:
 * `report.json`, `report.md`, `report.html` and SVG charts under `charts/`, each file atomically.
 */
export async function writeGridReport(dir: string): Promise<WrittenGridReport> {
  const grid = JSON.parse(await readFile(join(dir, 'grid.json'), 'utf8')) as GridFile;
  const cells = await readGridCells(dir, grid.cells);
  const report = createGridReport(cells, { title: grid.spec.name, referenceMethod: grid.spec.reference });
  const charts: Record<string, string> = {};
  const written: string[] = [];
  for (const chart of gridCharts(report)) {
    const path = join(dir, 'charts', chart.file);
    await atomicWriteFile(path, chart.svg);
    charts[chart.caption] = `charts/${chart.file}`;
    written.push(path);
  }
  const paths = { json: join(dir, 'report.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  await atomicWriteFile(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await atomicWriteFile(paths.markdown, gridReportMarkdown(report, { charts }));
  await atomicWriteFile(paths.html, gridReportHtml(report, { charts }));
  return { ...paths, charts: written, report };
}
