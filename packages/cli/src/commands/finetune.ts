import type { CommandInput } from '../command-table';
import type { FINETUNE_FLAGS } from '../flags/finetune-flags';
import { checkModel } from '../run/check-model';
import { commandConfig, prepareBackend, startRun, validateSettings } from '../run/command-config';
import { initialEncoder } from '../grid/initial-encoder';
import { loadRunData } from '../run/data';
import { loadModelFrom, resolveModelSource, runFinetune } from '../run/pipeline';
import { openRunDir, readRunConfig } from '../run/run-dir';
import { sourcePretraining } from '../run/lineage';

/** `moco-robust finetune`. */
export async function handler({ values }: CommandInput<typeof FINETUNE_FLAGS>): Promise<number> {
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
