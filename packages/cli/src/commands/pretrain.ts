import { helpText, parseFlags, type FlagSpec } from '../parse-flags';
import { commandConfig, prepareBackend, RUN_FLAGS, startRun, validateSettings } from '../run/command-config';
import { loadRunData } from '../run/data';
import { runPretrain } from '../run/pipeline';
import { openRunDir } from '../run/run-dir';
import { pretextTaskFactory } from '../run/tasks';
import { UsageError } from '../usage-error';

const FLAGS = {
  ...RUN_FLAGS,
  method: {
    type: 'string',
    description:
      'moco-v1, moco-v2 (built in) or a plugin: rotation, jigsaw, ' +
      'selfie, rocl (@moco-robust/pretext-<name>) or any package name',
  },
  attack: {
    type: 'string',
    description: 'label-free attack crafting the training views',
    choices: ['moco-pgd', 'moco-fgsm', 'none'],
  },
} satisfies FlagSpec;

const SUMMARY =
  'Adversarial self-supervised pre-training of an encoder (MoCo-PGD / ' +
  'MoCo-FGSM views, or a plugin pretext task with PGD on its loss). Writes ' +
  '<out>/config.json, events.jsonl, checkpoints/ and the final encoder ' +
  'in <out>/encoder/; Ctrl-C saves a checkpoint, --resume continues.';

/** `moco-robust pretrain`. */
export async function run(argv: string[]): Promise<number> {
  const { values, help, positionals } = parseFlags('pretrain', argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('pretrain', SUMMARY, FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`pretrain: unexpected argument '${positionals[0]}'`);
  const pretrain: Record<string, unknown> = {};
  if (values.method !== undefined) pretrain.method = values.method;
  if (values.attack !== undefined) pretrain.attack = values.attack;
  const config = await commandConfig('pretrain', values, Object.keys(pretrain).length ? { pretrain } : {});
  await validateSettings('pretrain', config);
  const data = await loadRunData(values.data, config, { train: true, test: true });
  const taskFactory = await pretextTaskFactory(config); // a missing plugin fails here, before anything is written
  const backend = await prepareBackend(config, values.backend);
  const run = await openRunDir('pretrain', { out: values.out, resume: values.resume });
  try {
    await run.starting(() => startRun(run, config, backend));
    const { result } = await runPretrain(run, run.out, config, data.train, data.test, taskFactory);
    const metrics = {
      steps: result.steps,
      loss: result.loss,
      knnAccuracy: result.knnAccuracy,
      checkpoint: result.checkpoint,
      encoder: `${run.out}/encoder/model.json`,
    };
    await run.writeJson('metrics.json', { run: config, pretrain: metrics });
    if (values.json) process.stdout.write(`${JSON.stringify({ out: run.out, ...metrics })}\n`);
    else
      process.stdout.write(
        `\nEncoder: ${metrics.encoder}\nSteps ${result.steps}, loss ${result.loss.toFixed(4)}` +
          (result.knnAccuracy === undefined ? '' : `, kNN accuracy ${(100 * result.knnAccuracy).toFixed(2)}%`) +
          `\nNext:   moco-robust finetune --from ${run.out}\n`,
      );
    return 0;
  } finally {
    run.close();
  }
}
