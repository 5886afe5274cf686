import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, type Rng } from '@moco-robust/core';
import { linearInit } from '@moco-robust/models';

/** Shape of Selfie's attention-pooling network. */
export interface AttentionPoolingShape {
  /** Width of the tokens (the patch features). */
  dim: number;
  /** Patch slots of the grid (16 for 4×4), each with a learned position embedding. */
  slots: number;
  /** Transformer encoder layers (Chen et al.: 13). */
  layers: number;
  /** Attention heads; must divide `dim` (Chen et al.: `dim` / 64). */
  heads: number;
  /** Hidden width of each layer's feed-forward block (Chen et al.: 2048). */
  feedForwardDim: number;
}

/**
 * Creates the weights of Selfie's attention-pooling network (Trinh et al. 2019) as a tfjs
 * `LayersModel` of built-in layers only, so checkpoints save and `tf.loadLayersModel` loads it with
 * no project code: `position_embedding` (a bias-free Dense over one-hot slots: the slot embedding
 * table [slots, dim], standard normal as Chen et al.'s `randn` row embeddings), `summary_token` (the learned query
 * u₀,
 * zeros, as Chen et al.)
 * and, per layer l, `layer<l>_query|key|value|output` (Dense dim → dim), `layer<l>_attention_norm`,
 * `layer<l>_hidden` (Dense dim → feedForwardDim, ReLU), `layer<l>_feedforward` (Dense back to dim) and
 * `layer<l>_feedforward_norm` (LayerNormalization, ε 1e-5). The model's own graph just applies every
 * layer to an input of its width (a weights container); {@link attentionPool} composes the layers
 * with multi-head attention written in tf ops. Dense layers get PyTorch's `nn.Linear` init, seeded.
 */
export function createAttentionPooling(
  shape: AttentionPoolingShape,
  rng: Rng,
  name = 'selfie_attention_pooling',
): tfl.LayersModel {
  checkShape(shape);
  const { dim, slots, layers, feedForwardDim } = shape;
  const tokens = tfl.input({ shape: [null, dim], name: 'tokens' });
  const hidden = tfl.input({ shape: [null, feedForwardDim], name: 'hidden' });
  const oneHotSlots = tfl.input({ shape: [slots], name: 'slots' });
  const unit = tfl.input({ shape: [1], name: 'unit' });
  const seed = () => rng.nextUint32() % 2147483647;
  const outputs: tfl.SymbolicTensor[] = [
    tfl.layers
      .dense({
        units: dim,
        useBias: false,
        name: 'position_embedding',
        kernelInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: seed() }),
      })
      .apply(oneHotSlots) as tfl.SymbolicTensor,
    tfl.layers
      .dense({ units: dim, useBias: false, name: 'summary_token', kernelInitializer: 'zeros' })
      .apply(unit) as tfl.SymbolicTensor,
  ];
  const dense = (units: number, fanIn: number, layerName: string, input: tfl.SymbolicTensor, activation?: 'relu') =>
    tfl.layers
      .dense({ units, activation, name: layerName, ...linearInit(fanIn, rng) })
      .apply(input) as tfl.SymbolicTensor;
  const norm = (layerName: string) =>
    tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-5, name: layerName }).apply(tokens) as tfl.SymbolicTensor;
  for (let l = 1; l <= layers; l++) {
    for (const part of ['query', 'key', 'value', 'output']) outputs.push(dense(dim, dim, `layer${l}_${part}`, tokens));
    outputs.push(norm(`layer${l}_attention_norm`));
    outputs.push(dense(feedForwardDim, dim, `layer${l}_hidden`, tokens, 'relu'));
    outputs.push(dense(dim, feedForwardDim, `layer${l}_feedforward`, hidden));
    outputs.push(norm(`layer${l}_feedforward_norm`));
  }
  return tfl.model({ inputs: [tokens, hidden, oneHotSlots, unit], outputs, name });
}

/** Learned position embeddings of `slots` (int32 [k]): [k, dim]. */
export function slotEmbeddings(model: tfl.LayersModel, slots: tf.Tensor1D, slotCount: number): tf.Tensor2D {
  return tf.tidy(
    () =>
      model
        .getLayer('position_embedding')
        .apply(tf.oneHot(tf.cast(slots, 'int32') as tf.Tensor1D, slotCount)) as tf.Tensor2D,
  );
}

/**
 * The attention-pooling network's summary u [N, dim] of `tokens` [N, V, dim] (the visible patches'
 * features plus their position embeddings): the learned token u₀ is prepended, the sequence goes
 * through `layers` post-norm transformer encoder layers (Vaswani et al. 2017, as Chen et al.'s) —
 * multi-head self-attention, residual, LayerNorm, ReLU feed-forward, residual, LayerNorm — and u is
 * u₀'s output. No dropout.
 */
export function attentionPool(
  model: tfl.LayersModel,
  tokens: tf.Tensor3D,
  shape: Pick<AttentionPoolingShape, 'layers' | 'heads'>,
): tf.Tensor2D {
  const [n, , dim] = tokens.shape;
  const layer = (name: string) => model.getLayer(name);
  return tf.tidy(() => {
    const u0 = layer('summary_token').apply(tf.ones([1, 1])) as tf.Tensor2D; // [1, dim]
    let x = tf.concat([tf.tile(tf.reshape(u0, [1, 1, dim]), [n, 1, 1]), tokens], 1) as tf.Tensor3D; // [N, 1 + V, dim]
    for (let l = 1; l <= shape.layers; l++) {
      const attended = multiHeadAttention(x, shape.heads, (part) => layer(`layer${l}_${part}`));
      x = layerNorm(layer(`layer${l}_attention_norm`), tf.add(x, attended));
      const fed = layer(`layer${l}_feedforward`).apply(layer(`layer${l}_hidden`).apply(x) as tf.Tensor) as tf.Tensor3D;
      x = layerNorm(layer(`layer${l}_feedforward_norm`), tf.add(x, fed));
    }
    return tf.reshape(tf.slice(x, [0, 0, 0], [n, 1, dim]), [n, dim]) as tf.Tensor2D;
  });
}

/**
 * A `LayerNormalization` layer's function over the last axis of `x`, (x − mean) / √(variance + ε) · γ + β, in
 * broadcasting core ops with the layer's own γ, β and ε. tfjs-layers' own `apply` tiles the moments and γ, β to
 * the input's shape, and tfjs's `Tile` gradient is one `Slice` + `Add` per repetition: thousands of kernels per
 * backward pass at batch 64, which made a Selfie step 20 s (docs/performance-notes.md, "Selfie's layer norm").
 */
export function layerNorm(layer: tfl.layers.Layer, x: tf.Tensor): tf.Tensor3D {
  const weight = (suffix: string) => {
    const found = layer.trainableWeights.find((w) => w.originalName.endsWith(suffix));
    if (!found)
      throw new InvalidArgumentError({
        argument: 'model',
        expected: `'${layer.name}' with ${suffix}`,
        received: layer.trainableWeights.map((w) => w.originalName),
      });
    return found.read();
  };
  const epsilon = (layer.getConfig() as { epsilon: number }).epsilon;
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
    return tf.add(tf.mul(normalised, weight('gamma')), weight('beta')) as tf.Tensor3D;
  });
}

/**
 * Scaled dot-product self-attention of `x` [N, T, dim] with `heads` heads and the given projections; returns [N, T,
 * dim].
 */
function multiHeadAttention(
  x: tf.Tensor3D,
  heads: number,
  projection: (part: 'query' | 'key' | 'value' | 'output') => tfl.layers.Layer,
): tf.Tensor3D {
  const [n, t, dim] = x.shape;
  const width = dim / heads;
  const split = (part: 'query' | 'key' | 'value') =>
    // [N, h, T, dim/h]
    tf.transpose(tf.reshape(projection(part).apply(x) as tf.Tensor, [n, t, heads, width]), [0, 2, 1, 3]);
  const scores = tf.div(tf.matMul(split('query'), split('key'), false, true), Math.sqrt(width)); // [N, h, T, T]
  const mixed = tf.matMul(tf.softmax(scores), split('value')); // [N, h, T, dim/h]
  const merged = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [n, t, dim]); // [N, T, dim]
  return projection('output').apply(merged) as tf.Tensor3D;
}

function checkShape(shape: AttentionPoolingShape): void {
  const positive = (argument: string, value: number, min = 1) => {
    if (!(Number.isInteger(value) && value >= min))
      throw new InvalidArgumentError({ argument, expected: `an integer ≥ ${min}`, received: value });
  };
  positive('dim', shape.dim);
  positive('slots', shape.slots, 2);
  positive('layers', shape.layers);
  positive('heads', shape.heads);
  positive('feedForwardDim', shape.feedForwardDim);
  if (shape.dim % shape.heads !== 0)
    throw new InvalidArgumentError({
      argument: 'heads',
      expected: `a divisor of the patch feature width ${shape.dim}`,
      received: shape.heads,
    });
}
