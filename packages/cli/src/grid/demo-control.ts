import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Cifar10Images } from '@moco-robust/data';
import { writeReport, type RunReport } from '@moco-robust/eval';
import type { RunConfig } from '../presets';
import { reportExamples, runEval, runFinetune } from '../run/pipeline';
import type { RunDir } from '../run/run-dir';
import { initialEncoder } from './initial-encoder';

type Accuracy = { accuracy: number; total: number };

/**
 * Robust accuracy with minus without pre-training, in points; the test set's sampling noise of that difference (1.96
 * standard errors of a difference of two proportions); and the verdict: a difference within the noise is no
 * difference one can claim, whichever its sign.
 */
function compare(a: Accuracy, b: Accuracy): { points: number; noise: number; within: boolean; verdict: string } {
  const points = 100 * (a.accuracy - b.accuracy);
  const noise = 196 * Math.sqrt((a.accuracy * (1 - a.accuracy)) / a.total + (b.accuracy * (1 - b.accuracy)) / b.total);
  const within = Math.abs(points) < noise;
  const verdict = within
    ? 'made no difference beyond the noise'
    : points > 0
      ? 'helped'
      : 'did not help (it was worse)';
  return { points, noise, within, verdict };
}

/**
 * One sentence saying whether pre-training helped at this fine-tuning budget: robust (PGD) accuracy with and without
 * pre-training, the difference in points, clean accuracy, and whether the difference is within the sampling noise of
 * the test set (then the verdict is that no difference can be claimed).
 */
export function pretrainingVerdict(pretrained: RunReport, control: RunReport, finetuneEpochs: number): string {
  const a = pretrained.robustness?.pgd;
  const b = control.robustness?.pgd;
  if (!a || !b) return 'The control was not evaluated under PGD, so no verdict on pre-training is possible.';
  const { points, noise, within, verdict } = compare(a, b);
  const percent = (report: RunReport) => `${(100 * report.robustness!.clean.accuracy).toFixed(2)}%`;
  const clean = `clean ${percent(pretrained)} vs ${percent(control)}`;
  return (
    `At this budget (${finetuneEpochs} adversarial fine-tuning epochs for both), pre-training ${verdict}: ` +
    `${a.attack} accuracy ${(100 * a.accuracy).toFixed(2)}% with pre-training vs ${(100 * b.accuracy).toFixed(2)}% ` +
    `from a random initialisation (${points >= 0 ? '+' : ''}${points.toFixed(2)} points; ${clean}). ` +
    (within
      ? `The difference is within the sampling noise of ${a.total} test images (±${noise.toFixed(1)} points) and ` +
        'one seed; `moco-robust grid` measures it over seeds with intervals.'
      : `The difference exceeds the sampling noise of ${a.total} test images (±${noise.toFixed(1)} points), ` +
        'for this one seed; `moco-robust grid` measures it over seeds with intervals.')
  );
}

/**
 * The verdict in a few words, for the report's title: `pre-training helped at this budget (PGD +9.38 points, one
 * seed)`, or `… made no clear difference … (PGD +1.56 points, within ±5.3, one seed)`.
 */
export function headline(pretrained: RunReport, control: RunReport): string {
  const a = pretrained.robustness?.pgd;
  const b = control.robustness?.pgd;
  if (!a || !b) return 'no PGD verdict';
  const { points, noise, within } = compare(a, b);
  const verdict = within ? 'made no clear difference' : points > 0 ? 'helped' : 'did not help';
  const band = within ? `, within ±${noise.toFixed(1)}` : '';
  const difference = `PGD ${points >= 0 ? '+' : ''}${points.toFixed(2)} points${band}`;
  return `pre-training ${verdict} at this budget (${difference}, one seed)`;
}

/**
 * The demo's control: the same adversarial fine-tuning (same budget, seed and architecture) from a random
 * initialisation — method `none` — in `<run>/control/`, evaluated clean / FGSM / PGD; then the run's report is
 * rewritten with both side by side and the {@link pretrainingVerdict} as a note of the pre-trained run.
 */
export async function runDemoControl(
  run: RunDir,
  config: RunConfig,
  data: { train: Cifar10Images; test: Cifar10Images },
  pretrained: { report: RunReport; model: tfl.LayersModel },
): Promise<{ control: RunReport; verdict: string; html: string; markdown: string }> {
  const noAttack = { ...config.pretrain.attack, kind: 'none' as const };
  const controlConfig: RunConfig = { ...config, pretrain: { ...config.pretrain, method: 'none', attack: noAttack } };
  const dir = join(run.out, 'control');
  run.renderer.line('control: the same adversarial fine-tuning from a random initialisation (method none)');
  const tuned = await runFinetune(run, join(dir, 'finetune'), controlConfig, initialEncoder(config), data.train);
  let control: RunReport;
  try {
    ({ report: control } = await runEval(
      run,
      dir,
      controlConfig,
      tuned.classifier.model,
      data.test,
      { attacks: ['clean', 'fgsm', 'pgd'], cifar10c: false },
      {
        name: 'none (adversarial training from scratch)',
        method: 'none',
        pretrainAttack: 'none',
        model: config.model.architecture,
      },
    ));
  } finally {
    tuned.classifier.model.dispose();
  }
  const verdict = pretrainingVerdict(pretrained.report, control, config.finetune.epochs);
  const notes = [...pretrained.report.notes, verdict];
  if (pretrained.report.corruptions) notes.push('CIFAR-10-C was measured for the pre-trained model only.');
  const examples = reportExamples(pretrained.model, data.test, config);
  const written = await writeReport(run.out, [{ ...pretrained.report, notes }, control], {
    title: `moco-robust — ${pretrained.report.name} and its none control: ${headline(pretrained.report, control)}`,
    examples,
  });
  return { control, verdict, html: written.html, markdown: written.markdown };
}
