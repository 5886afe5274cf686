import { helpText, parseFlags, type FlagSpec } from '../parse-flags';
import { commandConfig, RUN_FLAGS, startRun } from '../run/command-config';
import { loadRunData } from '../run/data';
import { loadFrostFlag } from '../run/frost';
import { loadModelFrom, resolveModelSource, runEval } from '../run/pipeline';
import { openRunDir } from '../run/run-dir';
import { pretrainingLabels, robustnessTable } from '@moco-robust/eval';
import { sourcePretraining } from '../run/lineage';
import { UsageError } from '../usage-error';

const EVALUATIONS = ['clean', 'fgsm', 'pgd', 'autoattack', 'cifar10c'] as const;
const { resume: _resume, ...RUN } = RUN_FLAGS;

const FLAGS = {
  ...RUN,
  from: {
    type: 'string',
    description:
      'the classifier: a finetune run directory, a checkpoint directory ' +
      'or any tfjs layers model.json (images in [0,1] → logits)',
  },
  attacks: {
    type: 'string',
    description: `comma-separated evaluations among ${EVALUATIONS.join(', ')}`,
    default: 'clean,fgsm,pgd,cifar10c', // autoattack on request: minutes per 100 images on a CPU
  },
  cifar10c: {
    type: 'string',
    description:
      'folder of the official CIFAR-10-C arrays (<corruption>.npy, labels.npy); default: generate the corruptions',
  },
  frost: {
    type: 'string',
    description:
      'folder of the frost textures for generated CIFAR-10-C (default ' +
      '$MOCO_ROBUST_FROST; without it frost is skipped and noted)',
  },
  name: { type: 'string', description: "the run's name in the report (default the --from path)" },
} satisfies FlagSpec;

const SUMMARY =
  'Evaluates a classifier: clean accuracy, FGSM and PGD robust accuracy (model in inference mode) and ' +
  'CIFAR-10-C per corruption × severity; writes report.json, report.md, charts/ and index.html to --out.';

/** `moco-robust eval`. */
export async function run(argv: string[]): Promise<number> {
  const { values, help, positionals } = parseFlags('eval', argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('eval', SUMMARY, FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`eval: unexpected argument '${positionals[0]}'`);
  if (!values.from) throw new UsageError('eval: --from <finetune run | checkpoint | model.json> is required');
  const wanted = values
    .attacks!.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const w of wanted)
    if (!(EVALUATIONS as readonly string[]).includes(w))
      throw new UsageError(`eval: --attacks must list values among ${EVALUATIONS.join(', ')}; got '${w}'`);
  const config = await commandConfig('eval', values, {});
  const data = await loadRunData(values.data, config);
  const frostTextures = wanted.includes('cifar10c') && !values.cifar10c ? await loadFrostFlag(values.frost) : undefined;
  const source = await resolveModelSource(values.from, 'classifier'); // verified before anything is written
  config.pretrain = sourcePretraining(source, config.pretrain); // how the classifier's encoder was made
  const run = await openRunDir('eval', { out: values.out });
  try {
    await startRun(run, config, values.backend);
    const model = await loadModelFrom(source, 'classifier');
    const attacks = wanted.filter((w): w is 'clean' | 'fgsm' | 'pgd' | 'autoattack' => w !== 'cifar10c');
    const { report, html } = await runEval(
      run,
      run.out,
      config,
      model,
      data.test,
      { attacks, cifar10c: wanted.includes('cifar10c'), cifar10cDir: values.cifar10c, frostTextures },
      { ...pretrainingLabels(config.pretrain), ...(values.name ? { name: values.name } : {}) },
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
