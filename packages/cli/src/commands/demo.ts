import { join } from 'node:path';
import { pretrainingLabels, robustnessTable } from '@moco-robust/eval';
import type { CommandInput } from '../command-table';
import type { DEMO_FLAGS } from '../flags/demo-flags';
import { commandConfig, prepareBackend, startRun, validateSettings } from '../run/command-config';
import { loadRunData } from '../run/data';
import { loadFrostFlag } from '../run/frost';
import { runDemoControl } from '../grid/demo-control';
import { runEval, runFinetune, runPretrain } from '../run/pipeline';
import { pretrainingRecord } from '../run/lineage';
import { openRunDir, writePhaseConfig } from '../run/run-dir';

/** `moco-robust demo`: the whole pipeline at a small scale. */
export async function handler({ values }: CommandInput<typeof DEMO_FLAGS>): Promise<number> {
  // --resume continues every phase from its latest checkpoint (a finished phase returns its saved result at once;
  // evaluation is deterministic and reruns), reaching the weights and numbers of an uninterrupted demo
  const config = await commandConfig('demo', values, {}, 'demo');
  await validateSettings('demo', config);
  const data = await loadRunData(values.data, config, { train: true, test: true });
  const frostTextures = await loadFrostFlag(values.frost);
  const backend = await prepareBackend(config, values.backend);
  const run = await openRunDir('demo', { out: values.out, resume: values.resume });
  try {
    await run.starting(() => startRun(run, config, backend));
    run.renderer.line(`data: ${data.train.count} training and ${data.test.count} test images from ${data.folder}`);
    // each phase folder holds its own config.json, so `pretrain --resume` / `finetune --resume` also continue it
    const pretrainDir = join(run.out, 'pretrain');
    await writePhaseConfig(pretrainDir, config);
    const pretrained = await runPretrain(run, pretrainDir, config, data.train, data.test);
    const finetuneDir = join(run.out, 'finetune');
    await writePhaseConfig(finetuneDir, { ...config, from: pretrainDir });
    const tuned = await runFinetune(run, finetuneDir, config, pretrained.encoder, data.train);
    const { report } = await runEval(
      run,
      run.out,
      config,
      tuned.classifier.model,
      data.test,
      { attacks: ['clean', 'fgsm', 'pgd'], cifar10c: config.eval.cifar10c, frostTextures },
      { ...pretrainingLabels(pretrainingRecord(config.pretrain)), model: config.model.architecture },
    );
    // the none control at the same fine-tuning budget, and the report rewritten with both side by side
    const noAttack = { ...config.pretrain.attack, kind: 'none' as const };
    const controlConfig = { ...config, pretrain: { ...config.pretrain, method: 'none', attack: noAttack } };
    await writePhaseConfig(join(run.out, 'control', 'finetune'), controlConfig);
    const { control, verdict, html, markdown } = await runDemoControl(run, config, data, {
      report,
      model: tuned.classifier.model,
    });
    const metrics = {
      run: config,
      pretrain: {
        steps: pretrained.result.steps,
        loss: pretrained.result.loss,
        knnAccuracy: pretrained.result.knnAccuracy,
      },
      finetune: { bestEpoch: tuned.bestEpoch, history: tuned.history },
      robustness: report.robustness,
      cifar10c: report.corruptions,
      control: { method: 'none', robustness: control.robustness },
      verdict,
    };
    await run.writeJson('metrics.json', metrics);
    const model = join(run.out, 'finetune', 'model', 'model.json');
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ out: run.out, report: html, markdown, model, ...metrics })}\n`);
    } else {
      const c = report.corruptions;
      const cifar = c
        ? `  CIFAR-10-C (${c.source}, mean of ` +
          `${c.meanBenchmark === undefined ? `${c.results.length} evaluated` : '15 × 5'}) ` +
          ` ${(100 * (c.meanBenchmark ?? c.meanEvaluated)).toFixed(2)}%`
        : '';
      process.stdout.write(
        `\nReport: ${html}\n        ${markdown}\nModel:  ` +
          `${model}\n\n${robustnessTable(report.robustness!)}\n${cifar}\n\n` +
          'Control (none: the same fine-tuning from a random initialisation):\n' +
          `${robustnessTable(control.robustness!)}\n\n${verdict}\n`,
      );
      for (const w of report.robustness!.warnings) process.stdout.write(`  warning: ${w}\n`);
      for (const s of c?.skipped ?? []) process.stdout.write(`  note: ${s.corruption} skipped (${s.reason})\n`);
    }
    return 0;
  } finally {
    run.close();
  }
}
