import type { CommandInput } from '../command-table';
import { DEFAULT_EVALUATIONS, EVALUATIONS, type EVAL_FLAGS } from '../flags/eval-flags';
import { checkCifar10CFolder } from '@moco-robust/data';
import { checkModel } from '../run/check-model';
import { commandConfig, prepareBackend, startRun } from '../run/command-config';
import { loadRunData } from '../run/data';
import { loadFrostFlag } from '../run/frost';
import { loadModelFrom, resolveModelSource, runEval } from '../run/pipeline';
import { openRunDir, readRunConfig } from '../run/run-dir';
import { pretrainingLabels, robustnessTable } from '@moco-robust/eval';
import { pretrainingRecord, sourcePretraining } from '../run/lineage';
import { UsageError } from '../usage-error';

/** `moco-robust eval`. */
export async function handler({ values }: CommandInput<typeof EVAL_FLAGS>): Promise<number> {
  // --resume restarts the evaluation with what the folder's config.json recorded: evaluation keeps no state worth a
  // checkpoint (it is deterministic per seed), so a restart reaches the same report
  const saved = values.resume ? await savedEvaluation(values) : undefined;
  const from = saved?.from ?? values.from;
  if (!from) throw new UsageError('eval: --from <finetune run | checkpoint | model.json> is required');
  const wanted = (saved?.attacks ?? values.attacks ?? DEFAULT_EVALUATIONS)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const w of wanted)
    if (!(EVALUATIONS as readonly string[]).includes(w))
      throw new UsageError(`eval: --attacks must list values among ${EVALUATIONS.join(', ')}; got '${w}'`);
  if (values.autoattack !== undefined && !wanted.includes('autoattack')) wanted.push('autoattack');
  const cifar10cDir = saved ? saved.cifar10c : values.cifar10c;
  const name = saved ? saved.name : values.name;
  const config = await commandConfig(
    'eval',
    values,
    values.autoattack === undefined ? {} : { eval: { autoAttackVersion: values.autoattack } },
  );
  // everything is checked before the output folder is touched: data, the CIFAR-10-C files, the model against the data
  const data = await loadRunData(values.data, config, { test: true });
  const cifar10cFolder =
    wanted.includes('cifar10c') && cifar10cDir ? await checkCifar10CFolder(cifar10cDir) : undefined;
  const frostTextures = wanted.includes('cifar10c') && !cifar10cDir ? await loadFrostFlag(values.frost) : undefined;
  const source = await resolveModelSource(from, 'classifier'); // verified before anything is written
  config.pretrain = sourcePretraining(source, config.pretrain); // how the classifier's encoder was made
  const backend = await prepareBackend(config, values.backend);
  const model = await loadModelFrom(source, 'classifier');
  checkModel(model, { role: 'classifier', source, argument: '--from', maxLabel: Math.max(...data.test.labels) });
  const run = await openRunDir('eval', { out: values.out, resume: values.resume });
  try {
    const evaluation = { from, attacks: wanted.join(','), cifar10c: cifar10cDir, name };
    await run.starting(() => startRun(run, Object.assign(config, { from, evaluation }), backend));
    const attacks = wanted.filter((w): w is 'clean' | 'fgsm' | 'pgd' | 'autoattack' => w !== 'cifar10c');
    const { report, html } = await runEval(
      run,
      run.out,
      config,
      model,
      data.test,
      { attacks, cifar10c: wanted.includes('cifar10c'), cifar10cDir, cifar10cFolder, frostTextures },
      { ...pretrainingLabels(pretrainingRecord(config.pretrain)), ...(name ? { name } : {}) },
    );
    if (values.json) process.stdout.write(`${JSON.stringify({ out: run.out, report: html, ...report })}\n`);
    else {
      process.stdout.write(`\nReport: ${html}\n`);
      if (report.robustness) process.stdout.write(`\n${robustnessTable(report.robustness)}\n`);
      const c = report.corruptions;
      if (c)
        process.stdout.write(
          `  CIFAR-10-C (${c.source}) mean ${(100 * (c.meanBenchmark ?? c.meanEvaluated)).toFixed(2)}%\n`,
        );
    }
    return 0;
  } finally {
    run.close();
  }
}

/** What an eval's config.json recorded about its evaluation (`--resume`); evaluation flags are refused with it. */
async function savedEvaluation(values: {
  out?: string;
  from?: string;
  attacks?: string;
  cifar10c?: string;
  name?: string;
  autoattack?: string;
}): Promise<{ from?: string; attacks?: string; cifar10c?: string; name?: string }> {
  if (!values.out) throw new UsageError('eval: --resume needs --out <the eval folder to restart>');
  const given = (['from', 'attacks', 'autoattack', 'cifar10c', 'name'] as const).filter((k) => values[k] !== undefined);
  if (given.length > 0)
    throw new UsageError(
      `eval: --resume restarts with the folder's saved settings; drop ${given.map((k) => `--${k}`).join(', ')}`,
    );
  const saved = await readRunConfig<{ from?: string; evaluation?: Record<string, string | undefined> }>(values.out);
  return { from: saved.from, ...saved.evaluation };
}
