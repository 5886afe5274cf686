import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@moco-robust/core';

/**
 * Anything that maps images to logits or features: a tfjs `LayersModel` (called with `apply(x,
 * {training})`), a `GraphModel` (`predict`), or a plain function.
 */
export type ModelLikeForward =
  | ((x: tf.Tensor4D) => tf.Tensor)
  | { apply(x: tf.Tensor, kwargs?: { training?: boolean }): unknown }
  | { predict(x: tf.Tensor): unknown; execute(x: tf.Tensor): unknown };

/**
 * Turns a model into a differentiable function images → outputs [N, D]. `training` selects the
 * batch-norm/dropout mode of a `LayersModel` (default false: inference mode, as in evaluation).
 */
export function toForward(
  model: ModelLikeForward,
  argument = 'model',
  training = false,
): (x: tf.Tensor4D) => tf.Tensor2D {
  if (typeof model === 'function') return (x) => check(model(x), argument);
  if (
    model &&
    typeof (model as { apply?: unknown }).apply === 'function' &&
    Array.isArray((model as { layers?: unknown }).layers)
  ) {
    const layers = model as { apply(x: tf.Tensor, kwargs?: { training?: boolean }): unknown };
    return (x) => check(layers.apply(x, { training }), argument);
  }
  if (model && typeof (model as { predict?: unknown }).predict === 'function') {
    const graph = model as { predict(x: tf.Tensor): unknown };
    return (x) => check(graph.predict(x), argument);
  }
  if (model && typeof (model as { apply?: unknown }).apply === 'function') {
    const generic = model as { apply(x: tf.Tensor, kwargs?: { training?: boolean }): unknown };
    return (x) => check(generic.apply(x, { training }), argument);
  }
  throw new InvalidArgumentError({
    argument,
    expected: 'a tfjs LayersModel, a GraphModel or a function (images) => logits',
    received: model,
  });
}

function check(output: unknown, argument: string): tf.Tensor2D {
  const t = output as tf.Tensor;
  if (!t || !Array.isArray(t.shape) || t.rank !== 2) {
    throw new InvalidArgumentError({
      argument,
      expected: 'a model whose output is one tensor [N, D] (logits or features)',
      received: output,
    });
  }
  return t as tf.Tensor2D;
}
