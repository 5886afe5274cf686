import { InvalidArgumentError } from '@moco-robust/core';
import { checkLabelValues, modelOutputWidth, type ModelLikeForward } from '@moco-robust/attacks';
import { sliceImages, type ImageSet, type LabelledImageSet } from '@moco-robust/data';

/**
 * Checks that a model takes the images of `set` — a declared input shape `[N, H, W, 3]` must match the set's size —
 * and returns nothing; names `argument` otherwise. Models without a declared input shape (functions) pass.
 */
export function checkModelInput(model: unknown, set: ImageSet, argument = 'model'): void {
  const declared = (model as { inputs?: Array<{ shape?: unknown }> } | undefined)?.inputs?.[0]?.shape;
  if (!Array.isArray(declared)) return;
  const height = set.height ?? 32;
  const width = set.width ?? 32;
  const fits =
    declared.length === 4 &&
    [height, width, 3].every(
      (size, i) => declared[i + 1] === null || declared[i + 1] === -1 || declared[i + 1] === size,
    );
  if (!fits) {
    throw new InvalidArgumentError({
      argument,
      expected: `a model taking images [N, ${height}, ${width}, 3] (the data's size)`,
      received: `a model taking [${declared.map((d) => d ?? 'N').join(', ')}]`,
    });
  }
}

/**
 * The number of classes of a classifier checked against labelled data before any work: the model must take the set's
 * images, output one row per image, and every label must lie in [0, classes). `classes` is the model's output width
 * (read from a declared shape, or from a forward pass of one image); a given `numClasses` must agree with it.
 */
export function checkClassifierData(
  model: ModelLikeForward,
  set: LabelledImageSet,
  options: { numClasses?: number; argument?: string; modelArgument?: string } = {},
): number {
  const modelArgument = options.modelArgument ?? 'model';
  checkModelInput(model, set, modelArgument);
  const probe = set.count > 0 ? sliceImages(set, 0, 1) : undefined;
  let width: number | undefined;
  try {
    width = modelOutputWidth(model, probe, modelArgument);
  } finally {
    probe?.dispose();
  }
  const { numClasses } = options;
  if (numClasses !== undefined && !(Number.isInteger(numClasses) && numClasses > 1))
    throw new InvalidArgumentError({ argument: 'numClasses', expected: 'an integer > 1', received: numClasses });
  if (width !== undefined && numClasses !== undefined && width !== numClasses) {
    throw new InvalidArgumentError({
      argument: modelArgument,
      expected: `a classifier with ${numClasses} outputs (numClasses)`,
      received: `a model with ${width} outputs`,
    });
  }
  const classes = width ?? numClasses ?? 10;
  checkLabelValues(set.labels.subarray(0, set.count), classes, `${options.argument ?? 'test'}.labels`);
  return classes;
}
