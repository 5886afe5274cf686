import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '@moco-robust/core';

/** Arguments of tfjs's built-in `batchNormalization` layer. */
type BatchNormalizationArgs = NonNullable<Parameters<typeof tfl.layers.batchNormalization>[0]>;

/** The fields of tfjs's `BatchNormalization` layer the split form reads (set by its constructor and `build`). */
interface BatchNormalizationLayer extends tfl.layers.Layer {
  readonly momentum: number;
  readonly epsilon: number;
  readonly axis: number;
  readonly gamma?: { read(): tf.Tensor };
  readonly beta?: { read(): tf.Tensor };
  readonly movingMean: { read(): tf.Tensor; write(value: tf.Tensor): void };
  readonly movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): void };
}

type Kwargs = Parameters<tfl.layers.Layer['call']>[1];
type SplitConstructor = new (
  args: BatchNormalizationArgs,
  groups: number,
) => BatchNormalizationLayer & { readonly groups: number };

let splitClass: SplitConstructor | undefined;

/**
 * The split form, a subclass of the very class `tfl.layers.batchNormalization` instantiates (taken
 * from an instance, so it is the same tfjs-layers copy). It inherits the class name, `build`,
 * weights, `getConfig` and the inference path, so a model holding it serialises as plain
 * `BatchNormalization` and `tf.loadLayersModel` needs no project code.
 */
function splitBatchNormalizationClass(): SplitConstructor {
  if (splitClass) return splitClass;
  const Base = Object.getPrototypeOf(tfl.layers.batchNormalization({})).constructor as new (
    args: BatchNormalizationArgs,
  ) => BatchNormalizationLayer;
  splitClass = class SplitBatchNormalization extends Base {
    constructor(
      args: BatchNormalizationArgs,
      readonly groups: number,
    ) {
      super(args);
    }

    override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
      const input = Array.isArray(inputs) ? inputs[0] : inputs;
      if (!kwargs?.training || this.groups === 1) return super.call(inputs, kwargs);
      return tf.tidy(() => splitTraining(this, input, this.groups));
    }
  };
  return splitClass;
}

/**
 * Training-mode split batch-norm: statistics per group of consecutive examples; moving statistics move toward their
 * mean over groups.
 */
function splitTraining(layer: BatchNormalizationLayer, input: tf.Tensor, groups: number): tf.Tensor {
  const [batch] = input.shape;
  const channels = input.shape[input.rank - 1];
  if (layer.axis !== -1 && layer.axis !== input.rank - 1)
    throw new InvalidArgumentError({
      argument: 'axis',
      expected: 'the last axis (channels last)',
      received: layer.axis,
    });
  if (batch % groups !== 0) {
    throw new InvalidArgumentError({
      argument: 'inputs',
      expected: `a batch divisible by the ${groups} batch-norm groups (training mode)`,
      received: `a batch of ${batch}`,
      hint: 'drop the last partial batch, or use batchNormGroups: 1',
    });
  }
  const grouped = tf.reshape(input, [groups, -1, channels]); // grouped: [G, N/G·H·W, C]
  const { mean, variance } = tf.moments(grouped, [1], true); // mean, variance: [G, 1, C]
  let scale = tf.rsqrt(tf.add(variance, layer.epsilon)); // scale: [G, 1, C]
  if (layer.gamma) scale = tf.mul(scale, layer.gamma.read());
  let normalised = tf.mul(tf.sub(grouped, mean), scale); // normalised: [G, N/G·H·W, C]
  if (layer.beta) normalised = tf.add(normalised, layer.beta.read());
  const decay = 1 - layer.momentum;
  for (const [variable, statistic] of [
    [layer.movingMean, mean],
    [layer.movingVariance, variance],
  ] as const) {
    const old = variable.read();
    variable.write(tf.sub(old, tf.mul(tf.sub(old, tf.mean(statistic, [0, 1])), decay))); // [C], as tfjs's own update
  }
  return tf.reshape(normalised, input.shape);
}

/**
 * A batch-normalisation layer that, in training mode, computes its statistics separately for each of
 * `groups` equal slices of the batch (consecutive examples) — the single-device substitute for
 * MoCo's shuffle-BN — and moves its moving statistics toward their mean over the groups. In
 * inference mode, and with `groups` 1, it is tfjs's `BatchNormalization` exactly; it saves as a
 * plain `BatchNormalization` layer. Training-mode batches must be divisible by `groups`.
 */
export function splitBatchNormalization(args: BatchNormalizationArgs & { groups: number }): tfl.layers.Layer {
  const { groups, ...rest } = args;
  if (!(Number.isInteger(groups) && groups >= 1))
    throw new InvalidArgumentError({ argument: 'groups', expected: 'a positive integer', received: groups });
  const SplitBatchNormalization = splitBatchNormalizationClass();
  return new SplitBatchNormalization(rest, groups);
}

/** Batch-norm groups of a layer made by {@link splitBatchNormalization} (1 for any other layer). */
export function batchNormGroupsOf(layer: tfl.layers.Layer): number {
  return splitClass !== undefined && layer instanceof splitClass ? layer.groups : 1;
}
