import type { FlagSpec } from '../parse-flags';

/** `moco-robust report`'s flags. */
export const REPORT_FLAGS = {
  out: { type: 'string', description: 'folder of the combined report (new or empty)' },
  title: { type: 'string', description: "the report's title", default: 'moco-robust comparison' },
  quoted: {
    type: 'boolean',
    description: "draw the paper's Table 1 (quoted, hatched) beside the measured numbers",
    default: true,
  },
  json: { type: 'boolean', description: 'print the written paths as JSON' },
} satisfies FlagSpec;

/** `moco-robust report --help`: what the command does and writes. */
export const REPORT_HELP =
  'Renders one or several runs (folders holding report.json, e.g. from `eval` ' +
  'or `demo`) into one report: report.json, report.md, charts/ (per-corruption ' +
  "bars like the paper's Figures 5–8, a Table-1-style comparison) and " +
  'index.html.\n\nUsage: moco-robust report <run dir | report.json>... [--out <folder>]';
