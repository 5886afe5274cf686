import * as tf from '@tensorflow/tfjs-core';

/** Weight transforms of the innermost {@link withConstantWeights} call, by kind and the weights' data; else absent. */
let transforms: Map<string, tf.Tensor[]> | undefined;

/** A number per tensor data object, for cache keys (data objects are never reused: a new value is a new object). */
const dataNumbers = new WeakMap<object, number>();
let nextDataNumber = 0;

function dataNumber(t: tf.Tensor | undefined): string {
  if (t === undefined) return '-';
  let n = dataNumbers.get(t.dataId);
  if (n === undefined) dataNumbers.set(t.dataId, (n = nextDataNumber++));
  return String(n);
}

/**
 * Runs `fn`, promising that no weight changes while it runs (an attack's steps: many gradients of one model), so
 * that kernels may compute a transform of a weight once and reuse it: the native `Conv2D` input gradient's filter
 * rotated by 180° with its channels swapped (a `Reverse` and a `Transpose` of every filter on every step, ≈6 % of a
 * PGD step), a strided convolution's phase filters, and an inference-mode batch-norm's per-channel factor and shift
 * (five small kernels per layer and call) are computed on first use and kept until `fn` returns, then disposed — no
 * tensor outlives the call. The cache is keyed by the weights' data, so a weight that does change (a new tensor, or
 * a variable assigned new values) is transformed again rather than read stale. Nested calls share the outermost
 * one's cache. `fn` must be synchronous (its tensors are read before it returns).
 */
export function withConstantWeights<T>(fn: () => T): T {
  if (transforms) return fn();
  transforms = new Map();
  try {
    return fn();
  } finally {
    for (const tensors of transforms.values()) tf.dispose(tensors);
    transforms = undefined;
  }
}

/**
 * `transform()` of the weights `of`, computed once per `kind` and weights inside {@link withConstantWeights} (and kept
 * there), else on every call — the caller then owns the result. Absent weights (`undefined`) are part of the key.
 */
export function constantTransform<T extends tf.Tensor>(
  kind: string,
  of: ReadonlyArray<tf.Tensor | undefined>,
  transform: () => T[],
): T[] {
  if (!transforms) return transform();
  const key = `${kind}:${of.map(dataNumber).join(',')}`;
  let tensors = transforms.get(key) as T[] | undefined;
  if (!tensors) transforms.set(key, (tensors = transform().map((t) => tf.keep(t))));
  return tensors;
}

/** Whether a {@link withConstantWeights} call is running (its transforms are owned by it, not by the caller). */
export function weightsAreConstant(): boolean {
  return transforms !== undefined;
}
