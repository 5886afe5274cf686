import { ALL_CORRUPTIONS, BENCHMARK_CORRUPTIONS, type CorruptionName } from '@moco-robust/data';
import type { CorruptionResult } from '../evaluate-corruptions';
import { robustnessMarkdown } from './robustness-markdown';
import { PAPER_TABLE_1, percent, type RunReport } from './run-report';

/** The corruptions a result covers, in the release's order (the 15 benchmark ones first). */
export function evaluatedCorruptions(result: CorruptionResult): CorruptionName[] {
  return ALL_CORRUPTIONS.filter((name) => result.perCorruption[name] !== undefined);
}

/**
 * CIFAR-10-C accuracy (%) as a Markdown table: one row per corruption, severities 1–5 and their mean, then the
 * benchmark mean.
 */
export function corruptionMarkdown(result: CorruptionResult, title = 'CIFAR-10-C'): string {
  const lines = [
    `## ${title}`,
    '',
    result.source === 'official'
      ? 'Corrupted images: the official CIFAR-10-C arrays.'
      : "Corrupted images: generated on the fly by @moco-robust/data's generator.",
    '',
    '| corruption | s1 | s2 | s3 | s4 | s5 | mean |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const name of evaluatedCorruptions(result)) {
    const cells = [1, 2, 3, 4, 5].map((s) =>
      percent(result.results.find((r) => r.corruption === name && r.severity === s)?.accuracy),
    );
    const extra = (BENCHMARK_CORRUPTIONS as readonly string[]).includes(name) ? '' : ' (extra)';
    lines.push(`| ${name}${extra} | ${cells.join(' | ')} | ${percent(result.perCorruption[name])} |`);
  }
  lines.push(
    '',
    result.meanBenchmark === undefined
      ? `Mean over the ${result.results.length} evaluated corruption × severity pairs: ` +
          `**${percent(result.meanEvaluated)}%** (the 15-corruption benchmark mean needs all 75).`
      : `Mean over the 15 benchmark corruptions × 5 severities: **${percent(result.meanBenchmark)}%**.`,
  );
  for (const s of result.skipped) lines.push('', `Note: ${s.corruption} was skipped — ${s.reason}.`);
  return `${lines.join('\n')}\n`;
}

/**
 * A Table-1-style comparison of runs (reproduced here) — clean, FGSM and PGD accuracy and the
 * CIFAR-10-C mean — followed by the paper's Table 1 marked as quoted, so the two are never confused.
 */
export function comparisonMarkdown(runs: readonly RunReport[], options: { quoted?: boolean } = {}): string {
  const lines = [
    '## Comparison (reproduced here)',
    '',
    '| run | method | pre-training attack | model | clean | FGSM | PGD | CIFAR-10-C mean |',
    '|---|---|---|---|---:|---:|---:|---:|',
  ];
  for (const run of runs) {
    const r = run.robustness;
    const c = run.corruptions;
    lines.push(
      `| ${run.name} | ${run.method} | ${run.pretrainAttack ?? '–'} ` +
        `| ${run.model ?? '–'} | ${percent(r?.clean.accuracy)} ` +
        `| ${percent(r?.fgsm?.accuracy)} | ${percent(r?.pgd?.accuracy)} ` +
        `| ${percent(c?.meanBenchmark ?? c?.meanEvaluated)} |`,
    );
  }
  const attacks = runs
    .flatMap((run) => [run.robustness?.fgsm?.attack, run.robustness?.pgd?.attack])
    .filter((a): a is string => a !== undefined);
  if (attacks.length > 0) lines.push('', `Attacks: ${[...new Set(attacks)].join('; ')}.`);
  if (options.quoted !== false) {
    lines.push(
      '',
      "## The paper's Table 1 (quoted, not reproduced here)",
      '',
      '| method | FGSM R18 | FGSM R50 | PGD R18 | PGD R50 | PGD numbers from |',
      '|---|---:|---:|---:|---:|---|',
    );
    for (const q of PAPER_TABLE_1)
      lines.push(
        `| ${q.method} | ${q.fgsm.resnet18.toFixed(2)} | ${q.fgsm.resnet50.toFixed(2)} | ` +
          `${q.pgd.resnet18.toFixed(2)} | ${q.pgd.resnet50.toFixed(2)} | ${q.pgdSource} |`,
      );
    lines.push(
      '',
      'The paper pairs its FGSM column with MoCo-FGSM pre-training and its ' +
        'PGD column with MoCo-PGD pre-training (full CIFAR-10, 200 + 50 epochs).',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The whole report of one or several runs as Markdown (`report.md`). */
export function reportMarkdown(
  runs: readonly RunReport[],
  options: { title?: string; charts?: Record<string, string> } = {},
): string {
  const parts = [`# ${options.title ?? 'moco-robust report'}\n`];
  if (runs.length > 1 || runs.some((r) => r.robustness)) parts.push(comparisonMarkdown(runs));
  for (const [caption, file] of Object.entries(options.charts ?? {})) parts.push(`![${caption}](${file})\n`);
  for (const run of runs) {
    const facts = [
      `method ${run.method}`,
      run.pretrainAttack && `pre-training attack ${run.pretrainAttack}`,
      run.model && `model ${run.model}`,
      run.protocol && `protocol ${run.protocol}`,
      run.backend && `backend ${run.backend}`,
    ].filter(Boolean);
    parts.push(`# ${run.name}\n\n${facts.join(' · ')} · ${run.createdAt}\n`);
    if (run.robustness) parts.push(robustnessMarkdown(run.robustness, `Robust accuracy — ${run.name}`));
    if (run.corruptions) parts.push(corruptionMarkdown(run.corruptions, `CIFAR-10-C — ${run.name}`));
    if (run.notes.length > 0) parts.push(`${run.notes.map((n) => `- ${n}`).join('\n')}\n`);
  }
  return parts.join('\n');
}
