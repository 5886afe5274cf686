import * as tf from '@tensorflow/tfjs-core';
import { emit, InvalidArgumentError, type EventListener } from '@moco-robust/core';
import { toForward, type ModelLikeForward } from '@moco-robust/attacks';
import {
  assertImageSet,
  BENCHMARK_CORRUPTIONS,
  corruptImages,
  sliceImages,
  type CorruptImagesOptions,
  type CorruptionName,
  type LabelledImageSet,
  type Severity,
} from '@moco-robust/data';
import { checkClassifierData } from './check-model-data';

/**
 * One corruption at one severity: `count` uint8 HWC 32×32 images and their labels (an official block or a generated
 * one).
 */
export interface CorruptionBlock {
  corruption: CorruptionName;
  severity: Severity;
  images: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** A block's source announcing a corruption it leaves out (e.g. frost without its textures). */
export interface SkippedCorruption {
  corruption: CorruptionName;
  reason: string;
}

/** Accuracy on one corruption at one severity. */
export interface CorruptionAccuracy {
  corruption: CorruptionName;
  severity: Severity;
  accuracy: number;
  correct: number;
  total: number;
}

/** Result of {@link evaluateCorruptions}. */
export interface CorruptionResult {
  /** Where the corrupted images came from: the official release's arrays or the on-the-fly generator. */
  source: 'official' | 'generated';
  /** One entry per evaluated (corruption, severity), in evaluation order. */
  results: CorruptionAccuracy[];
  /** Per corruption, the mean accuracy over its evaluated severities (the paper's Figures 5–8). */
  perCorruption: Partial<Record<CorruptionName, number>>;
  /**
   * Mean over the 15 benchmark corruptions × 5 severities (RobustBench's CIFAR-10-C metric); absent unless all 75 were
   * evaluated.
   */
  meanBenchmark?: number;
  /** Mean over every evaluated (corruption, severity). */
  meanEvaluated: number;
  /** Corruptions the source left out, with the reason (reports note them). */
  skipped: SkippedCorruption[];
}

/** Events of {@link evaluateCorruptions}. */
export type CorruptionEvalEvent =
  | {
      type: 'corruption-eval';
      corruption: CorruptionName;
      severity: Severity;
      accuracy: number;
      images: number;
      done: number;
      total?: number;
      numTensors: number;
    }
  | { type: 'corruption-skipped'; corruption: CorruptionName; reason: string };

/** Options of {@link evaluateCorruptions}. */
export interface EvaluateCorruptionsOptions {
  /** Where the blocks come from (reports say it); default `generated`. */
  source?: 'official' | 'generated';
  /** Images per forward; default 256. */
  batchSize?: number;
  /** Corruptions the source left out. */
  skipped?: SkippedCorruption[];
  /** Number of blocks the source will yield, when known (progress events carry it as `total`). */
  expectedBlocks?: number;
  onEvent?: EventListener<CorruptionEvalEvent>;
}

/**
 * CIFAR-10-C accuracy of a classifier (images in [0, 1] → logits, run in inference mode) over a
 * stream of corruption blocks — the official release's arrays (`officialCorruptions` in the node
 * entry) or the generator (`generatedCorruptions`) — per corruption × severity, per corruption (mean
 * over severities) and the mean over the 15 benchmark corruptions. Streams in batches: one block and
 * one batch of tensors live at a time, so memory stays flat over all 95 blocks.
 */
export async function evaluateCorruptions(
  model: ModelLikeForward,
  blocks: Iterable<CorruptionBlock> | AsyncIterable<CorruptionBlock>,
  options: EvaluateCorruptionsOptions = {},
): Promise<CorruptionResult> {
  const batchSize = options.batchSize ?? 256;
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new InvalidArgumentError({ argument: 'batchSize', expected: 'a positive integer', received: batchSize });
  const forward = toForward(model);
  const results: CorruptionAccuracy[] = [];
  let classes: number | undefined;
  for await (const block of blocks) {
    const name = `blocks (${block?.corruption} severity ${block?.severity})`;
    assertImageSet(block, name, { labelled: true });
    classes = checkClassifierData(model, block, { numClasses: classes, argument: name });
    let correct = 0;
    for (let start = 0; start < block.count; start += batchSize) {
      const size = Math.min(batchSize, block.count - start);
      const x = sliceImages(block, start, size);
      const predictions = tf.tidy(() => tf.cast(tf.argMax(forward(x), 1), 'int32'));
      x.dispose();
      const values = (await predictions.data()) as Int32Array;
      predictions.dispose();
      for (let i = 0; i < size; i++) if (values[i] === block.labels[start + i]) correct++;
    }
    const entry = {
      corruption: block.corruption,
      severity: block.severity,
      accuracy: block.count ? correct / block.count : 0,
      correct,
      total: block.count,
    };
    results.push(entry);
    emit(options.onEvent, {
      type: 'corruption-eval',
      ...entry,
      images: block.count,
      done: results.length,
      total: options.expectedBlocks,
      numTensors: tf.memory().numTensors,
    });
  }
  return summarizeCorruptions(results, options.source ?? 'generated', options.skipped ?? []);
}

/** Builds a {@link CorruptionResult} from per-(corruption, severity) accuracies. */
export function summarizeCorruptions(
  results: CorruptionAccuracy[],
  source: CorruptionResult['source'],
  skipped: SkippedCorruption[] = [],
): CorruptionResult {
  const byCorruption = new Map<CorruptionName, number[]>();
  for (const r of results) byCorruption.set(r.corruption, [...(byCorruption.get(r.corruption) ?? []), r.accuracy]);
  const perCorruption: CorruptionResult['perCorruption'] = {};
  for (const [name, values] of byCorruption) perCorruption[name] = mean(values);
  const benchmark = results.filter((r) => (BENCHMARK_CORRUPTIONS as readonly string[]).includes(r.corruption));
  const complete = BENCHMARK_CORRUPTIONS.every(
    (name) => new Set(benchmark.filter((r) => r.corruption === name).map((r) => r.severity)).size === 5,
  );
  return {
    source,
    results,
    perCorruption,
    meanBenchmark: complete ? mean(benchmark.map((r) => r.accuracy)) : undefined,
    meanEvaluated: mean(results.map((r) => r.accuracy)),
    skipped,
  };
}

/**
 * CIFAR-10-C blocks generated on the fly from labelled CIFAR images by `@moco-robust/data`'s
 * generator (seeded; frost needs `frostTextures`, otherwise it is skipped and recorded in `skipped`).
 */
export function generatedCorruptions(
  test: LabelledImageSet,
  options: Omit<CorruptImagesOptions, 'onEvent'>,
): { blocks: Iterable<CorruptionBlock>; skipped: SkippedCorruption[] } {
  assertImageSet(test, 'test', { labelled: true });
  const skipped: SkippedCorruption[] = [];
  const source = corruptImages(test.images, test.count, {
    ...options,
    onEvent: (event) => {
      if (event.type === 'corruption-skipped') skipped.push({ corruption: event.corruption, reason: event.reason });
    },
  });
  const blocks = (function* () {
    for (const block of source) yield { ...block, labels: test.labels, count: test.count };
  })();
  return { blocks, skipped };
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
