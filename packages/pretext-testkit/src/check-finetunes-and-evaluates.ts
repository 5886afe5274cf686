import type * as tfl from '@tensorflow/tfjs-layers';
import { evaluateRobustness, finetune, type FinetuneOptions } from '@moco-robust/eval';
import type { LabelledImageSet } from '@moco-robust/data';
import { keptTransforms } from '@moco-robust/models';
import { ConformanceError } from './conformance-error';

/** Options of {@link checkFinetunesAndEvaluates}. */
export interface CheckFinetunesAndEvaluatesOptions {
  /** The pre-trained encoder (a tfjs `LayersModel`, images → features); it is fine-tuned in place. */
  encoder: tfl.LayersModel;
  /** Labelled training images for the fine-tuning. */
  train: LabelledImageSet;
  /** Labelled test images for the evaluation. */
  test: LabelledImageSet;
  /**
   * Fine-tuning settings over the check's: seed 2, 1 epoch, batch 64, no validation split, the paper's mixed clean +
   * PGD-2 loss.
   */
  finetune?: FinetuneOptions['config'];
  /** PGD steps of the evaluation (ε 8/255, step 2/255); default 3. */
  pgdSteps?: number;
}

/** What {@link checkFinetunesAndEvaluates} measured (accuracies in [0, 1]). */
export interface FinetuneEvaluationReport {
  clean: number;
  pgd: number;
  total: number;
  seconds: number;
}

const CHECK = 'checkFinetunesAndEvaluates';

/**
 * Checks that a plugin's pre-trained encoder goes through `@moco-robust/eval` like a MoCo encoder:
 * adversarial fine-tuning with a new classifier head (`finetune`), then clean and PGD accuracy
 * (`evaluateRobustness`) on every test image, with PGD accuracy at most the clean one. Disposes the
 * new head (its kernel and bias stay referenced by the composed classifier); throws a {@link ConformanceError}; returns
 * the accuracies.
 */
export async function checkFinetunesAndEvaluates(
  options: CheckFinetunesAndEvaluatesOptions,
): Promise<FinetuneEvaluationReport> {
  const started = performance.now();
  const { classifier } = await finetune({
    encoder: options.encoder,
    train: options.train,
    config: {
      seed: 2,
      epochs: 1,
      batchSize: 64,
      validationSize: 0,
      loss: 'mixed',
      attack: { steps: 2 },
      logEvery: 100,
      ...options.finetune,
    },
  });
  try {
    const result = evaluateRobustness(classifier.model, options.test, {
      attacks: ['clean', 'pgd'],
      settings: { pgdSteps: options.pgdSteps ?? 3, seed: 1 },
    });
    const clean = result.clean.accuracy;
    const pgd = result.pgd?.accuracy ?? NaN;
    if (result.clean.total !== options.test.count) {
      throw new ConformanceError({
        check: `${CHECK}: evaluation`,
        expected: `all ${options.test.count} test images evaluated`,
        received: `${result.clean.total}`,
      });
    }
    if (!(clean >= 0 && clean <= 1 && pgd >= 0 && pgd <= 1)) {
      throw new ConformanceError({
        check: `${CHECK}: accuracies`,
        expected: 'clean and PGD accuracy in [0, 1]',
        received: `clean ${clean}, PGD ${pgd}`,
      });
    }
    if (pgd > clean) {
      throw new ConformanceError({
        check: `${CHECK}: robustness`,
        expected: 'PGD accuracy at most the clean accuracy (the attack starts from the clean images)',
        received: `PGD ${pgd} > clean ${clean}`,
        hint: 'A stronger attack lowering accuracy less points to gradient masking.',
      });
    }
    return { clean, pgd, total: result.clean.total, seconds: (performance.now() - started) / 1000 };
  } finally {
    // as the plugins' tests did: the composed model is left alone (disposing it would dispose the shared
    // encoder), so tfjs keeps the head's 2 weight tensors alive through it
    classifier.head.dispose();
    // and what the classifier kept between its inference passes: it is not run again
    keptTransforms(classifier.model).dispose();
  }
}
