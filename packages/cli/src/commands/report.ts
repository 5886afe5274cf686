import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataFormatError } from '@moco-robust/core';
import { writeReport, type RunReport } from '@moco-robust/eval';
import type { CommandInput } from '../command-table';
import type { REPORT_FLAGS } from '../flags/report-flags';
import { assertEmptyOutput } from '../run/run-dir';
import { UsageError } from '../usage-error';

/** Reads the runs of a `report.json` (or of a folder holding one). */
export async function readRuns(path: string): Promise<RunReport[]> {
  const file = path.endsWith('.json') ? path : join(path, 'report.json');
  let value: { schema?: string; runs?: RunReport[] };
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new DataFormatError({
      path: file,
      message: `is not a readable report (${(error as Error).message.split('\n')[0]})`,
      cause: error,
    });
  }
  if (value.schema === 'moco-robust/reports@1' && Array.isArray(value.runs)) return value.runs;
  if (value.schema === 'moco-robust/report@1') return [value as RunReport];
  throw new DataFormatError({
    path: file,
    message: `expected schema moco-robust/reports@1 or report@1, got ${JSON.stringify(value.schema)}`,
  });
}

/** `moco-robust report`. */
export async function handler({ values, positionals }: CommandInput<typeof REPORT_FLAGS>): Promise<number> {
  if (positionals.length === 0) throw new UsageError('report: give at least one run folder or report.json');
  if (!values.out)
    throw new UsageError("report: --out <folder> is required (the runs' own reports are left as they are)");
  const out = resolve(values.out);
  await assertEmptyOutput('report', out);
  const runs = (await Promise.all(positionals.map(readRuns))).flat();
  const written = await writeReport(out, runs, { title: values.title, quoted: values.quoted });
  if (values.json) process.stdout.write(`${JSON.stringify(written)}\n`);
  else
    process.stdout.write(
      `Report of ${runs.length} run${runs.length > 1 ? 's' : ''}: ${written.html}\n          ${written.markdown}\n`,
    );
  return 0;
}
