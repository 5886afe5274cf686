import { helpText, parseFlags, type FlagSpec } from '../parse-flags';
import { checkModel } from '../run/check-model';
import { commandConfig, prepareBackend, RUN_FLAGS, startRun, validateSettings } from '../run/command-config';
import { initialEncoder } from '../grid/initial-encoder';
import { loadRunData } from '../run/data';
import { loadModelFrom, resolveModelSource, runFinetune } from '../run/pipeline';
import { openRunDir, readRunConfig } from '../run/run-dir';
import { sourcePretraining } from '../run/lineage';
import { UsageError } from '../usage-error';

const FLAGS = {
  ...RUN_FLAGS,
  from: {
    type: 'string',
    description:
      'the pre-trained encoder: a pretrain run directory, a checkpoint directory ' +
      'or a model.json (omit for random initialisation: the `none` baseline)',
  },
  mode: { type: 'string', description: 'what trains', choices: ['linear', 'partial', 'full'] },
  loss: {
    type: 'string',
    description: 'standard (clean), adversarial (Madry PGD), mixed (the paper: clean + adversarial), trades',
    choices: ['standard', 'adversarial', 'mixed', 'trades'],
  },
} satisfies FlagSpec;

const SUMMARY =
  'Fine-tunes a pre-trained encoder with a new classifier head (linear / partial / full; standard or ' +
  'adversarial). Writes <out>/model/ (a plain tfjs layers model), checkpoints/, events.jsonl and metrics.json.';

/** `moco-robust finetune`. */
export async function run(argv: string[]): Promise<number> {
  const { values, help, positionals } = parseFlags('finetune', argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('finetune', SUMMARY, FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`finetune: unexpected argument '${positionals[0]}'`);
  const finetune: Record<string, unknown> = {};
  if (values.mode !== undefined) finetune.mode = values.mode;
  if (values.loss !== undefined) finetune.loss = values.loss;
  const config = await commandConfig('finetune', values, Object.keys(finetune).length ? { finetune } : {});
  await validateSettings('finetune', config);
  const from = values.resume ? ((await readRunConfig<{ from?: string }>(values.out!)).from ?? undefined) : values.from;
  const data = await loadRunData(values.data, config, { train: true });
  const source = from ? await resolveModelSource(from, 'encoder') : undefined; // verified before anything is written
  config.pretrain = sourcePretraining(source, config.pretrain); // how the encoder was made, not the preset's default
  // the backend and the encoder, loaded and checked before the output folder is touched
  const backend = await prepareBackend(config, values.backend);
  // no --from: the random initialisation a pre-training run of this config starts from (the demo's control too)
  const encoder = source ? await loadModelFrom(source, 'encoder') : initialEncoder(config);
  if (source) checkModel(encoder, { role: 'encoder', source, argument: '--from' });
  const run = await openRunDir('finetune', { out: values.out, resume: values.resume });
  try {
    await run.starting(() => startRun(run, Object.assign(config, { from }), backend));
    const result = await runFinetune(run, run.out, config, encoder, data.train);
    const metrics = {
      from: from ?? 'random initialisation',
      bestEpoch: result.bestEpoch,
      history: result.history,
      model: `${run.out}/model/model.json`,
    };
    await run.writeJson('metrics.json', { run: config, finetune: metrics });
    if (values.json) process.stdout.write(`${JSON.stringify({ out: run.out, ...metrics })}\n`);
    else
      process.stdout.write(
        `\nClassifier: ${metrics.model} (best epoch ` +
          `${result.bestEpoch + 1})\nNext:       moco-robust eval --from ${run.out}\n`,
      );
    return 0;
  } finally {
    run.close();
  }
}
