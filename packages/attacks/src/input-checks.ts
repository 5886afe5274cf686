import * as tf from '@tensorflow/tfjs-core';
import { assertImages, assertLabels, InvalidArgumentError } from '@moco-robust/core';
import { toForward, type ModelLikeForward } from './model-forward';

/** How far outside [0, 1] a pixel may stray (float rounding of augmentations) before it is refused. */
export const PIXEL_RANGE_TOLERANCE = 1e-5;

/** Options of {@link checkAttackInputs}. */
export interface AttackInputChecks {
  /** Labels to check (int32 [N]), for the attacks that take them. */
  y?: unknown;
  /** The classifier: its output width is the number of classes the labels must lie below. */
  model?: ModelLikeForward;
  /** The number of classes when it is known without the model (wins over the model's width). */
  numClasses?: number;
  /** Names used in errors; defaults `x`, `y`, `model`. */
  names?: { x?: string; y?: string; model?: string };
}

interface Stats {
  min: number;
  max: number;
  nonFinite: number;
}

/** Statistics of tensors already read; tensors (other than variables) never change, so one read each is enough. */
const statsCache = new WeakMap<tf.Tensor, Stats>();

/**
 * Checks an attack's inputs at its entry and throws an `InvalidArgumentError` naming the bad argument: `x` an NHWC
 * float32 tensor of finite pixels in [0, 1] (values up to 255 get the hint "divide by 255"); `y` (when given) int32
 * [N] with every label in [0, classes), classes being `numClasses` or the model's output width. The shapes are
 * checked before any value; the values cost one host read of at most 5 numbers per call (none for tensors already
 * checked), never one per iteration.
 */
export function checkAttackInputs(x: unknown, checks: AttackInputChecks = {}): void {
  const xName = checks.names?.x ?? 'x';
  const yName = checks.names?.y ?? 'y';
  assertImages(x, xName, { channels: (x as tf.Tensor | undefined)?.shape?.[3] });
  if (checks.y !== undefined) assertLabels(checks.y, yName, { count: x.shape[0] });
  const y = checks.y as tf.Tensor1D | undefined;
  const classes =
    y === undefined
      ? undefined
      : (checks.numClasses ??
        (checks.model === undefined ? undefined : modelOutputWidth(checks.model, x, checks.names?.model)));
  const [xStats, yStats] = readStats(y ? [x, y] : [x]);
  if (xStats) refuseBadPixels(xStats, x, xName);
  if (yStats && classes !== undefined) refuseBadLabels(yStats.min, yStats.max, classes, y!, yName);
  else if (yStats && yStats.min < 0) refuseBadLabels(yStats.min, yStats.max, undefined, y!, yName);
}

/** {@link checkAttackInputs} for the label-free attacks: images only. */
export function checkImages(x: unknown, argument = 'x'): void {
  checkAttackInputs(x, { names: { x: argument } });
}

/**
 * Checks host labels (e.g. a data set's `Int32Array`) against the number of classes: every label an integer in
 * [0, numClasses). Throws an `InvalidArgumentError` naming `argument`, the first bad index and its value.
 */
export function checkLabelValues(labels: ArrayLike<number>, numClasses: number, argument = 'labels'): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!(Number.isInteger(label) && label >= 0 && label < numClasses)) {
      throw new InvalidArgumentError({
        argument,
        expected: `class indices in [0, ${numClasses}) (the model has ${numClasses} outputs)`,
        received: `label ${label} at index ${i}`,
        hint: 'Train and evaluate with a model whose output width is the number of classes of the data.',
      });
    }
  }
}

/**
 * The output width of a classifier (its number of classes): the declared output shape of a `LayersModel` or
 * `GraphModel`, else the width of its output on the first image of `probe` (one forward pass of one image, inference
 * mode). Undefined when neither is available.
 */
export function modelOutputWidth(model: ModelLikeForward, probe?: tf.Tensor4D, argument = 'model'): number | undefined {
  const declared = (model as { outputs?: Array<{ shape?: unknown }> } | undefined)?.outputs?.[0]?.shape;
  if (Array.isArray(declared) && declared.length === 2 && Number.isInteger(declared[1]) && declared[1] > 0)
    return declared[1];
  if (!probe || probe.shape[0] === 0) return undefined;
  const forward = toForward(model, argument);
  return tf.tidy(() => forward(tf.slice(probe, 0, 1)).shape[1]);
}

/** min, max and the count of non-finite values of each tensor, in one host read (cached per tensor). */
function readStats(tensors: tf.Tensor[]): Array<Stats | undefined> {
  const read = new Map<tf.Tensor, Stats>();
  const pending = tensors.filter((t) => t.size > 0 && !statsCache.has(t));
  if (pending.length > 0) {
    const stacked = tf.tidy(() =>
      tf.stack(
        pending.flatMap((t) => {
          const values = tf.cast(t, 'float32');
          const nonFinite = tf.sum(tf.cast(tf.logicalNot(tf.isFinite(values)), 'float32'));
          return [tf.min(values), tf.max(values), nonFinite];
        }),
      ),
    );
    const values = stacked.dataSync();
    stacked.dispose();
    pending.forEach((t, i) => {
      const stats = { min: values[3 * i], max: values[3 * i + 1], nonFinite: values[3 * i + 2] };
      read.set(t, stats);
      if (!(t instanceof tf.Variable)) statsCache.set(t, stats); // a variable can be assigned: never cached
    });
  }
  return tensors.map((t) => read.get(t) ?? statsCache.get(t));
}

function refuseBadPixels(stats: Stats, x: tf.Tensor, argument: string): void {
  const expected = 'finite pixels in [0, 1] (NHWC float32)';
  if (stats.nonFinite > 0) {
    throw new InvalidArgumentError({
      argument,
      expected,
      received: x,
      hint: `It holds ${stats.nonFinite} NaN or infinite value${stats.nonFinite === 1 ? '' : 's'}.`,
    });
  }
  if (stats.min >= -PIXEL_RANGE_TOLERANCE && stats.max <= 1 + PIXEL_RANGE_TOLERANCE) return;
  const range = `Values range over [${stats.min}, ${stats.max}]`;
  const hint =
    stats.min >= 0 && stats.max <= 255
      ? `${range}: these look like 0–255 pixels; divide by 255.`
      : stats.min < 0 && stats.max <= 255
        ? `${range}: these look normalised; pass raw pixels in [0, 1] (normalisation belongs inside the model).`
        : `${range}; rescale the images to [0, 1].`;
  throw new InvalidArgumentError({ argument, expected, received: x, hint });
}

function refuseBadLabels(min: number, max: number, classes: number | undefined, y: tf.Tensor, argument: string): void {
  if (min >= 0 && (classes === undefined || max < classes)) return;
  throw new InvalidArgumentError({
    argument,
    expected:
      classes === undefined
        ? 'class indices ≥ 0'
        : `class indices in [0, ${classes}) (the model has ${classes} output${classes === 1 ? '' : 's'})`,
    received: y,
    hint: `The labels range over [${min}, ${max}].`,
  });
}
