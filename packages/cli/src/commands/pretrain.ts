import type { CommandInput } from '../command-table';
import type { PRETRAIN_FLAGS } from '../flags/pretrain-flags';
import { commandConfig, prepareBackend, startRun, validateSettings } from '../run/command-config';
import { loadRunData } from '../run/data';
import { runPretrain } from '../run/pipeline';
import { openRunDir } from '../run/run-dir';
import { pretextTaskFactory } from '../run/tasks';
import { pretrainAttackKind } from '../presets';

/** `moco-robust pretrain`. */
export async function handler({ values }: CommandInput<typeof PRETRAIN_FLAGS>): Promise<number> {
  const pretrain: Record<string, unknown> = {};
  if (values.method !== undefined) pretrain.method = values.method;
  if (values.attack !== undefined) pretrain.attack = { kind: pretrainAttackKind(values.attack) }; // moco-pgd → pgd
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
