import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DataFormatError, InvalidArgumentError } from '@moco-robust/core';
import { type BatchStatistics, batchNormInTraining } from './batch-norm-training';

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
      const channelsLast = this.axis === -1 || this.axis === input.rank - 1;
      if (!kwargs?.training || (this.groups === 1 && !channelsLast)) return super.call(inputs, kwargs);
      return tf.tidy(() => splitTraining(this, input, this.groups));
    }
  };
  return splitClass;
}

/**
 * Training-mode split batch-norm: statistics per group of consecutive examples through {@link batchNormInTraining}
 * (one operation whose backward pass keeps only the input); moving statistics move toward their mean over groups.
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
  const decay = 1 - layer.momentum;
  const updateMovingStatistics = ({ mean, variance }: BatchStatistics) => {
    for (const [variable, statistic] of [
      [layer.movingMean, mean],
      [layer.movingVariance, variance],
    ] as const) {
      const old = variable.read();
      variable.write(tf.sub(old, tf.mul(tf.sub(old, tf.mean(statistic, [0, 1])), decay))); // [C], as tfjs's own update
    }
  };
  return batchNormInTraining(
    input,
    groups,
    (layer.gamma?.read() ?? tf.ones([channels])) as tf.Tensor1D,
    (layer.beta?.read() ?? tf.zeros([channels])) as tf.Tensor1D,
    layer.epsilon,
    updateMovingStatistics,
  );
}

/**
 * A batch-normalisation layer that, in training mode, computes its statistics separately for each of
 * `groups` equal slices of the batch (consecutive examples) — the single-device substitute for
 * MoCo's shuffle-BN — and moves its moving statistics toward their mean over the groups. In
 * inference mode it is tfjs's `BatchNormalization` exactly; in training mode (any `groups`, 1 too) it normalises
 * through {@link batchNormInTraining}, tfjs's values to rounding with a lighter backward pass. It saves as a
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

/**
 * Key of a model's tfjs `userDefinedMetadata` that records its split batch-norm layers as `{ "<layer path>": groups }`
 * (nested models as `outer/inner`). tfjs keeps it in `model.json`; plain `tf.loadLayersModel` ignores it, so the model
 * still loads as plain batch-norm anywhere, and {@link restoreBatchNormGroups} splits the layers again.
 */
export const BATCH_NORM_GROUPS_METADATA = 'mocoRobustBatchNormGroups';

/** Every layer of `model` with its path (`outer/inner` inside nested models), depth first. */
function layerPaths(model: tfl.LayersModel, prefix = ''): Array<[string, tfl.layers.Layer]> {
  return model.layers.flatMap(
    (layer): Array<[string, tfl.layers.Layer]> =>
      layer instanceof tfl.LayersModel
        ? layerPaths(layer, `${prefix}${layer.name}/`)
        : [[`${prefix}${layer.name}`, layer]],
  );
}

/** The groups of every split batch-norm layer of `model` with more than one group, by layer path. */
export function batchNormGroupsByLayer(model: tfl.LayersModel): Record<string, number> {
  const groups: Record<string, number> = {};
  for (const [path, layer] of layerPaths(model))
    if (batchNormGroupsOf(layer) > 1) groups[path] = batchNormGroupsOf(layer);
  return groups;
}

/**
 * Records the split batch-norm groups of `model` in its user-defined metadata ({@link BATCH_NORM_GROUPS_METADATA}),
 * keeping any other metadata, so that `model.save` (and so every checkpoint) carries them; a model without split
 * layers gets no entry.
 */
export function recordBatchNormGroups(model: tfl.LayersModel): void {
  const groups = batchNormGroupsByLayer(model);
  const { [BATCH_NORM_GROUPS_METADATA]: _previous, ...other } = (model.getUserDefinedMetadata() ?? {}) as Record<
    string,
    unknown
  >;
  const metadata = Object.keys(groups).length > 0 ? { ...other, [BATCH_NORM_GROUPS_METADATA]: groups } : other;
  if (Object.keys(metadata).length > 0 || model.getUserDefinedMetadata() !== undefined)
    model.setUserDefinedMetadata(metadata);
}

/**
 * Gives the batch-norm layers recorded in a loaded model's metadata ({@link recordBatchNormGroups}) their split
 * training behaviour back — same weights, same inference — so a model saved with split batch-norm trains as it did
 * before saving; every other batch-norm layer gets the split class's lighter training pass with 1 group (same
 * weights, same saved form). Throws a `DataFormatError` naming the layer when the
 * entry does not fit the model.
 */
export function restoreBatchNormGroups(model: tfl.LayersModel): tfl.LayersModel {
  const recorded = (model.getUserDefinedMetadata() as Record<string, unknown> | undefined)?.[
    BATCH_NORM_GROUPS_METADATA
  ];
  const layers = new Map(layerPaths(model));
  const SplitBatchNormalization = splitBatchNormalizationClass();
  const Base = Object.getPrototypeOf(SplitBatchNormalization.prototype).constructor as abstract new (
    ...args: never[]
  ) => unknown;
  const split = (layer: tfl.layers.Layer, groups: number) => {
    if (!(layer instanceof SplitBatchNormalization)) Object.setPrototypeOf(layer, SplitBatchNormalization.prototype);
    Object.defineProperty(layer, 'groups', { value: groups, writable: false, configurable: true, enumerable: true });
  };
  for (const layer of layers.values()) if (Object.getPrototypeOf(layer) === Base.prototype) split(layer, 1);
  if (recorded === undefined) return model;
  const entries: Array<[string, unknown]> =
    typeof recorded === 'object' && recorded !== null ? Object.entries(recorded) : [['', recorded]];
  for (const [path, groups] of entries) {
    const layer = layers.get(path);
    if (!(layer instanceof Base) || !(Number.isInteger(groups) && (groups as number) >= 1)) {
      throw new DataFormatError({
        path: `model.json userDefinedMetadata.${BATCH_NORM_GROUPS_METADATA}`,
        message:
          `entry '${path}': ${JSON.stringify(groups)} does not fit the model ` +
          `(expected a BatchNormalization layer of the model and a positive integer number of groups)`,
      });
    }
    split(layer as tfl.layers.Layer, groups as number);
  }
  return model;
}
