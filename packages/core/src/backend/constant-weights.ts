import * as tf from '@tensorflow/tfjs-core';

/** Weight transforms of the outermost running {@link withConstantWeights} call, by kind and the weights' data. */
let transforms: Map<string, tf.Tensor[]> | undefined;
/** The keys the running call has read, when its transforms outlive it (a {@link WeightTransformCache}'s). */
let keysRead: Set<string> | undefined;

/**
 * Weight transforms kept from one {@link withConstantWeights} call to the next — a model's inference passes, whose
 * weights rarely change between calls: each call reuses what the last one made for the same weights and frees what it
 * no longer read (the transforms of weights that have since changed). They live on the backend that made them (a
 * change of backend starts afresh) until {@link WeightTransformCache.dispose}.
 */
export class WeightTransformCache {
  constructor() {
    cacheContents.set(this, { entries: new Map() });
  }

  /** The number of tensors held. */
  get numTensors(): number {
    let count = 0;
    for (const tensors of held(this).entries.values()) count += tensors.length;
    return count;
  }

  /** Frees every transform held (the next call makes them again). */
  dispose(): void {
    const { entries } = held(this);
    for (const tensors of entries.values()) tf.dispose(tensors);
    entries.clear();
  }
}

/** What each cache holds, and on which backend (kept out of the class's public shape). */
const cacheContents = new WeakMap<WeightTransformCache, { entries: Map<string, tf.Tensor[]>; backend?: string }>();

function held(cache: WeightTransformCache): { entries: Map<string, tf.Tensor[]>; backend?: string } {
  return cacheContents.get(cache)!;
}

/** The cache's entries for a call on the active backend (emptied if they were made on another). */
function entriesOn(cache: WeightTransformCache): Map<string, tf.Tensor[]> {
  const contents = held(cache);
  if (contents.backend !== tf.getBackend()) cache.dispose();
  contents.backend = tf.getBackend();
  return contents.entries;
}

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
 * tensor outlives the call unless a `cache` keeps it (below). The cache is keyed by the weights' data, so a weight
 * that does change (a new tensor, or a variable assigned new values) is transformed again rather than read stale.
 * Nested calls share the outermost one's cache. `fn` must be synchronous (its tensors are read before it returns).
 * With a `cache`, the transforms are kept in it after `fn` returns, for the next call given the same cache, except
 * those this call did not read.
 */
export function withConstantWeights<T>(fn: () => T, cache?: WeightTransformCache): T {
  if (transforms) return fn();
  const entries = (cache && entriesOn(cache)) ?? new Map<string, tf.Tensor[]>();
  const read = cache && new Set<string>();
  transforms = entries;
  keysRead = read;
  try {
    return fn();
  } finally {
    transforms = undefined;
    keysRead = undefined;
    for (const [key, tensors] of entries)
      if (!read?.has(key)) {
        tf.dispose(tensors);
        entries.delete(key);
      }
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
  keysRead?.add(key);
  let tensors = transforms.get(key) as T[] | undefined;
  if (!tensors) transforms.set(key, (tensors = transform().map((t) => tf.keep(t))));
  return tensors;
}

/** Whether a {@link withConstantWeights} call is running (its transforms are owned by it, not by the caller). */
export function weightsAreConstant(): boolean {
  return transforms !== undefined;
}
