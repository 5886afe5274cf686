import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@moco-robust/core';
import { fgsm, supervisedPgd, toForward, type ModelLikeForward } from '@moco-robust/attacks';
import {
  assertImageSet,
  CIFAR10_CLASSES,
  corruptImages,
  sliceImages,
  sliceLabels,
  type CorruptionName,
  type LabelledImageSet,
  type Severity,
} from '@moco-robust/data';
import { STANDARD_ROBUSTNESS, type RobustnessSettings } from '../evaluate-robustness';

/** One row of an example grid: `count` uint8 HWC images and the model's prediction for each. */
export interface ExampleRow {
  title: string;
  images: Uint8Array;
  predictions: Int32Array;
}

/**
 * Clean vs adversarial vs corrupted versions of the same test images, with the model's predictions (the HTML report's
 * grid).
 */
export interface ExampleGrid {
  count: number;
  height: number;
  width: number;
  labels: Int32Array;
  classes: readonly string[];
  rows: ExampleRow[];
}

/** Options of {@link collectExamples}. */
export interface CollectExamplesOptions {
  /** Images in the grid (the first ones of the test set); default 8. */
  count?: number;
  /** Attack settings (ε, step, steps); default the standard protocol. */
  settings?: Partial<RobustnessSettings>;
  /**
   * Corrupted rows, each one corruption at one severity; default gaussian_noise, fog and jpeg_compression at severity
   * 3.
   */
  corruptions?: Array<{ corruption: CorruptionName; severity: Severity }>;
  classes?: readonly string[];
  seed?: number;
}

/**
 * Runs the model on clean, FGSM, PGD and corrupted versions of the first test images and collects them for the report's
 * grid.
 */
export function collectExamples(
  model: ModelLikeForward,
  test: LabelledImageSet,
  options: CollectExamplesOptions = {},
): ExampleGrid {
  assertImageSet(test, 'test', { labelled: true });
  const count = Math.min(options.count ?? 8, test.count);
  const settings = { ...STANDARD_ROBUSTNESS, ...options.settings };
  const height = test.height ?? 32;
  const width = test.width ?? 32;
  const forward = toForward(model);
  const x = sliceImages(test, 0, count);
  const y = sliceLabels(test, 0, count);
  const row = (title: string, images: tf.Tensor4D): ExampleRow => {
    const [bytes, predictions] = tf.tidy(() => [
      tf.cast(tf.round(tf.mul(images, 255)), 'int32'),
      tf.cast(tf.argMax(forward(images), 1), 'int32'),
    ]);
    const result = {
      title,
      images: Uint8Array.from(bytes.dataSync()),
      predictions: predictions.dataSync() as Int32Array,
    };
    tf.dispose([bytes, predictions]);
    return result;
  };
  const rows = [row('clean', x)];
  const fgsmImages = fgsm(model, x, y, { epsilon: settings.fgsmEpsilon });
  rows.push(row(`FGSM ε=${Math.round(settings.fgsmEpsilon * 255)}/255`, fgsmImages));
  const pgdImages = supervisedPgd(model, x, y, {
    epsilon: settings.pgdEpsilon,
    stepSize: settings.pgdStepSize,
    steps: settings.pgdSteps,
    rng: Rng.fromSeed(options.seed ?? settings.seed).fork('examples'),
  });
  rows.push(row(`PGD-${settings.pgdSteps} ε=${Math.round(settings.pgdEpsilon * 255)}/255`, pgdImages));
  tf.dispose([fgsmImages, pgdImages, x, y]);
  const subset = test.images.subarray(0, count * height * width * 3);
  const wanted = options.corruptions ?? [
    { corruption: 'gaussian_noise', severity: 3 },
    { corruption: 'fog', severity: 3 },
    { corruption: 'jpeg_compression', severity: 3 },
  ];
  if (height === 32 && width === 32) {
    for (const { corruption, severity } of wanted) {
      for (const block of corruptImages(subset, count, {
        corruptions: [corruption],
        severities: [severity],
        seed: options.seed ?? settings.seed,
      })) {
        const images = sliceImages({ images: block.images, count }, 0, count);
        rows.push(row(`${corruption} s${severity}`, images));
        images.dispose();
      }
    }
  }
  return {
    count,
    height,
    width,
    labels: test.labels.slice(0, count),
    classes: options.classes ?? CIFAR10_CLASSES,
    rows,
  };
}
