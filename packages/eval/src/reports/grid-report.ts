import { ALL_CORRUPTIONS, type CorruptionName } from '@moco-robust/data';
import type { AccuracyResult } from '../evaluate-robustness';
import { PAPER_TABLE_1, type QuotedResult, type RunReport } from './run-report';
import { pairedDifference, summarizeSeeds, type PairedDifference, type SeedSummary } from './statistics';

/** One cell of a grid as its runner left it: its settings, status, wall time and (when done) its run report. */
export interface GridCellRecord {
  /** The cell's directory name under `<grid>/cells/`. */
  name: string;
  /** `none`, `moco-v1`, `moco-v2` or a plugin name. */
  method: string;
  /** Pre-training attack: `moco-pgd`, `moco-fgsm` or `none`. */
  pretrainAttack: string;
  architecture: string;
  seed: number;
  status: 'done' | 'failed' | 'pending' | 'running';
  /** The error of a failed cell (one line). */
  error?: string;
  /** Wall time of the cell's runs so far, in seconds (all attempts). */
  wallTimeSeconds?: number;
  /** The cell's resolved settings (its config.json). */
  settings: Record<string, unknown>;
  report?: RunReport;
}

/** One measured number of a row: the mean over seeds, the attack that produced it and the paired difference. */
export interface GridEntry {
  summary: SeedSummary;
  /** The seeds behind `summary.values`, in the same order. */
  seeds: number[];
  /** Which attack (with its settings) produced the numbers, e.g. `PGD-20 (ε 8/255, step 2/255)`. */
  attacks: string[];
  /** `this row − the reference row` over the seeds both have; absent on the reference row itself. */
  difference?: PairedDifference;
}

/** One row of the grid's Table 1: a method under one pre-training attack. */
export interface GridRow {
  method: string;
  pretrainAttack: string;
  label: string;
  /** The row its paired differences are taken against (label), if any. */
  reference?: string;
  /** Key `<architecture>/<evaluation>` (evaluation: clean, fgsm, pgd, autoAttack, …). */
  entries: Record<string, GridEntry>;
  /** Key `<architecture>`: per corruption (and `mean`), the mean accuracy over severities summarised over seeds. */
  corruptions: Record<string, Partial<Record<CorruptionName | 'mean', SeedSummary>>>;
}

/** The grid report (`report.json`): Table 1 over seeds, paired differences, CIFAR-10-C, the paper's table, cells. */
export interface GridReport {
  schema: 'moco-robust/grid-report@1';
  title: string;
  createdAt: string;
  /** The method paired differences are taken against (the paper's MoCo: `moco-v1` when present). */
  referenceMethod?: string;
  architectures: string[];
  /** Evaluation columns in order: clean, fgsm, pgd, then any other measured attack (e.g. autoAttack). */
  evaluations: string[];
  rows: GridRow[];
  /** The paper's Table 1, quoted (not reproduced here). */
  quoted: readonly QuotedResult[];
  cells: GridCellRecord[];
  /** Sum of the cells' wall times, in seconds. */
  wallTimeSeconds: number;
}

const METHOD_LABELS: Record<string, string> = {
  none: 'none (adversarial training from scratch)',
  'moco-v1': 'MoCo',
  'moco-v2': 'MoCo-v2',
  jigsaw: 'Jigsaw',
  rotation: 'Rotation',
  selfie: 'Selfie',
  rocl: 'RoCL',
};

/** `moco-v1` + `moco-pgd` → `MoCo · MoCo-PGD pre-training`; a baseline's attack is PGD / FGSM on its own loss. */
export function gridRowLabel(method: string, pretrainAttack: string): string {
  const name = METHOD_LABELS[method] ?? method;
  if (method === 'none') return name;
  if (pretrainAttack === 'none') return `${name} · clean pre-training`;
  if (method === 'rocl') return `${name} · instance-wise PGD pre-training`;
  const kind = pretrainAttack === 'moco-fgsm' ? 'FGSM' : 'PGD';
  return `${name} · ${method.startsWith('moco') ? `MoCo-${kind}` : kind} pre-training`;
}

/** The accuracy results of a robustness result, by key (clean, fgsm, pgd and any other attack it carries). */
function accuracies(report: RunReport | undefined): Record<string, AccuracyResult> {
  const out: Record<string, AccuracyResult> = {};
  for (const [key, value] of Object.entries(report?.robustness ?? {}))
    if (value && typeof value === 'object' && 'accuracy' in value && 'attack' in value)
      out[key] = value as AccuracyResult;
  return out;
}

const EVALUATION_ORDER = ['clean', 'fgsm', 'pgd'];

/**
 * The grid report of `cells`: rows = method × pre-training attack (in the order first met), columns = architecture ×
 * evaluation; every entry the mean ± 95 % t-interval over the seeds of the finished cells, and its paired difference
 * to the reference method's row with the same pre-training attack (else its MoCo-PGD row, else its first row).
 */
export function createGridReport(
  cells: readonly GridCellRecord[],
  options: { title?: string; referenceMethod?: string; createdAt?: string } = {},
): GridReport {
  const done = cells.filter((c) => c.status === 'done' && c.report);
  const architectures = [...new Set(cells.map((c) => c.architecture))];
  const measured = new Set(done.flatMap((c) => Object.keys(accuracies(c.report))));
  const evaluations = [
    ...EVALUATION_ORDER.filter((e) => measured.has(e)),
    ...[...measured].filter((e) => !EVALUATION_ORDER.includes(e)),
  ];
  const rowKeys = [...new Set(cells.map((c) => `${c.method}\u0000${c.pretrainAttack}`))];
  const methods = new Set(cells.map((c) => c.method));
  const referenceMethod =
    options.referenceMethod ?? (methods.has('moco-v1') ? 'moco-v1' : methods.has('moco-v2') ? 'moco-v2' : undefined);
  const valuesOf = (method: string, attack: string, architecture: string, pick: (c: GridCellRecord) => unknown) => {
    const out = new Map<number, number>();
    for (const c of done)
      if (c.method === method && c.pretrainAttack === attack && c.architecture === architecture) {
        const value = pick(c);
        if (typeof value === 'number' && Number.isFinite(value)) out.set(c.seed, value);
      }
    return out;
  };
  const referenceRows = rowKeys.filter((k) => k.split('\u0000')[0] === referenceMethod);
  const referenceFor = (attack: string): string | undefined =>
    referenceRows.find((k) => k.endsWith(`\u0000${attack}`)) ??
    referenceRows.find((k) => k.endsWith('\u0000moco-pgd')) ??
    referenceRows[0];
  const rows = rowKeys.map((key): GridRow => {
    const [method, pretrainAttack] = key.split('\u0000') as [string, string];
    const reference = referenceFor(pretrainAttack);
    const [refMethod, refAttack] = (reference ?? '').split('\u0000') as [string, string];
    const entries: Record<string, GridEntry> = {};
    const corruptions: GridRow['corruptions'] = {};
    for (const architecture of architectures) {
      for (const evaluation of evaluations) {
        const pick = (c: GridCellRecord) => accuracies(c.report)[evaluation]?.accuracy;
        const values = valuesOf(method, pretrainAttack, architecture, pick);
        if (values.size === 0) continue;
        const seeds = [...values.keys()].sort((a, b) => a - b);
        const attacks = new Set<string>();
        for (const c of done)
          if (c.method === method && c.pretrainAttack === pretrainAttack && c.architecture === architecture) {
            const a = accuracies(c.report)[evaluation]?.attack;
            if (a) attacks.add(a);
          }
        const entry: GridEntry = {
          summary: summarizeSeeds(seeds.map((s) => values.get(s)!)),
          seeds,
          attacks: [...attacks],
        };
        if (reference && reference !== key) {
          const difference = pairedDifference(values, valuesOf(refMethod, refAttack, architecture, pick));
          if (difference) entry.difference = difference;
        }
        entries[`${architecture}/${evaluation}`] = entry;
      }
      const perCorruption: Partial<Record<CorruptionName | 'mean', SeedSummary>> = {};
      for (const name of [...ALL_CORRUPTIONS, 'mean'] as const) {
        const values = valuesOf(method, pretrainAttack, architecture, (c) => {
          const r = c.report?.corruptions;
          return name === 'mean' ? (r?.meanBenchmark ?? r?.meanEvaluated) : r?.perCorruption[name];
        });
        if (values.size > 0)
          perCorruption[name] = summarizeSeeds([...values.keys()].sort((a, b) => a - b).map((s) => values.get(s)!));
      }
      if (Object.keys(perCorruption).length > 0) corruptions[architecture] = perCorruption;
    }
    return {
      method,
      pretrainAttack,
      label: gridRowLabel(method, pretrainAttack),
      reference:
        reference && reference !== key ? gridRowLabel(...(reference.split('\u0000') as [string, string])) : undefined,
      entries,
      corruptions,
    };
  });
  return {
    schema: 'moco-robust/grid-report@1',
    title: options.title ?? 'moco-robust grid',
    createdAt: options.createdAt ?? new Date().toISOString(),
    referenceMethod,
    architectures,
    evaluations,
    rows,
    quoted: PAPER_TABLE_1,
    cells: [...cells],
    wallTimeSeconds: cells.reduce((a, c) => a + (c.wallTimeSeconds ?? 0), 0),
  };
}

/** Column title of an evaluation key: `fgsm` → `FGSM`, `autoAttack` → `AutoAttack`. */
export function evaluationLabel(evaluation: string): string {
  const known: Record<string, string> = { clean: 'clean', fgsm: 'FGSM', pgd: 'PGD', autoAttack: 'AutoAttack' };
  return known[evaluation] ?? evaluation;
}
