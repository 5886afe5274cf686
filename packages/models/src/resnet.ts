import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, Rng, toRng } from '@moco-robust/core';
import { conv2dLayer } from './conv2d-layer';
import { kaimingNormalFanOut } from './initializers';
import { releaseLayerOutputs } from './release-layer-outputs';
import { recordBatchNormGroups, splitBatchNormalization } from './split-batch-normalization';
import { featureWidth, resolveResnetConfig, type ResnetConfig, type ResnetPreset } from './resnet-config';

/** CIFAR-10 channel means (the MoCo CIFAR demo's), applied inside the model. */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465] as const;
/** CIFAR-10 channel standard deviations (the MoCo CIFAR demo's), applied inside the model. */
export const CIFAR10_STD = [0.2023, 0.1994, 0.201] as const;

/** Options of {@link createResnetEncoder}. */
export interface ResnetEncoderOptions {
  /** Preset name or config; default `resnet18`. */
  architecture?: ResnetPreset | Partial<ResnetConfig>;
  /** Seed or generator of every initializer. */
  rng?: number | Rng;
  /** Input height and width; default [32, 32]. */
  inputSize?: [number, number];
  /** Per-channel normalisation inside the model; default CIFAR-10's. */
  normalization?: { mean: readonly number[]; std: readonly number[] };
  /** Model name; default `encoder`. */
  name?: string;
  /**
   * Split batch-norm (DESIGN: the single-device shuffle-BN): in training mode every batch-norm layer
   * computes its statistics per group of this many equal slices of the batch; default 1 (plain).
   * Saved models carry plain batch-norm either way.
   */
  batchNormGroups?: number;
}

/** A CIFAR ResNet encoder and its metadata. */
export interface ResnetEncoder {
  /** images [N, H, W, 3] in [0, 1] → features [N, featureDim]; only built-in tfjs layers. */
  model: tfl.LayersModel;
  featureDim: number;
  config: ResnetConfig;
  /** Training-mode batch-norm groups (1: plain batch-norm). */
  batchNormGroups: number;
  /** A new encoder of the same architecture with the same weights. */
  clone(): tfl.LayersModel;
}

type Tensor = tfl.SymbolicTensor;

/**
 * Builds a CIFAR ResNet encoder (ResNet-18/50 or a small variant) as a tfjs `LayersModel`: a frozen
 * per-channel normalisation (so inputs are [0, 1] pixels), the CIFAR stem (3×3 stride-1 conv, BN,
 * ReLU, no max-pool), the stages, global average pooling. PyTorch-equivalent initialisation, seeded;
 * batch-norm momentum 0.1 and ε 1e-5 as PyTorch's; split batch-norm with `batchNormGroups`. Layers
 * are named `stem_…` and `stage<k>_block<b>_…`. Run it with `model.apply(x, { training })`:
 * `training: false` (the default of `predict`) uses the batch-norm moving statistics.
 */
export function createResnetEncoder(options: ResnetEncoderOptions = {}): ResnetEncoder {
  const config = resolveResnetConfig(options.architecture ?? 'resnet18');
  const groups = options.batchNormGroups ?? 1;
  if (!(Number.isInteger(groups) && groups >= 1))
    throw new InvalidArgumentError({ argument: 'batchNormGroups', expected: 'a positive integer', received: groups });
  const rng = toRng(options.rng);
  const seedState = rng.state();
  const model = buildModel(config, rng, options);
  return {
    model,
    featureDim: featureWidth(config),
    config,
    batchNormGroups: groups,
    clone() {
      const copy = buildModel(config, Rng.fromState(seedState), options);
      copy.setWeights(model.getWeights());
      return copy;
    },
  };
}

/** What every layer builder needs: the architecture, the initializers' generator and the batch-norm groups. */
interface BuildContext {
  config: ResnetConfig;
  rng: Rng;
  batchNormGroups: number;
}

function buildModel(config: ResnetConfig, rng: Rng, options: ResnetEncoderOptions): tfl.LayersModel {
  const context: BuildContext = { config, rng, batchNormGroups: options.batchNormGroups ?? 1 };
  const [height, width] = options.inputSize ?? [32, 32];
  const input = tfl.input({ shape: [height, width, 3], name: 'images' });
  const normalize = tfl.layers.dense({ units: 3, name: 'normalize', trainable: false });
  let x = normalize.apply(input) as Tensor;
  x = conv(x, config.width, 3, 1, 'stem_conv', context);
  x = batchNorm(x, 'stem_bn', context);
  x = relu(x, 'stem_relu');
  let inChannels = config.width;
  config.stages.forEach((blocks, s) => {
    const planes = config.width * 2 ** s;
    for (let b = 0; b < blocks; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const name = `stage${s + 1}_block${b + 1}`;
      x =
        config.block === 'basic'
          ? basicBlock(x, inChannels, planes, stride, name, context)
          : bottleneckBlock(x, inChannels, planes, stride, name, context);
      inChannels = planes * (config.block === 'basic' ? 1 : 4);
    }
  });
  const features = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as Tensor;
  const model = tfl.model({ inputs: input, outputs: features, name: options.name ?? 'encoder' });
  recordBatchNormGroups(model); // checkpoints (model.save) carry the split batch-norm groups
  setNormalization(normalize, options.normalization ?? { mean: CIFAR10_MEAN, std: CIFAR10_STD });
  return releaseLayerOutputs(model); // a layer's output freed once read, in training too
}

function basicBlock(
  x: Tensor,
  inChannels: number,
  planes: number,
  stride: number,
  name: string,
  context: BuildContext,
): Tensor {
  const zeroGamma = context.config.zeroInitLastBatchNorm;
  let out = relu(
    batchNorm(conv(x, planes, 3, stride, `${name}_conv1`, context), `${name}_bn1`, context),
    `${name}_relu1`,
  );
  out = batchNorm(conv(out, planes, 3, 1, `${name}_conv2`, context), `${name}_bn2`, context, zeroGamma);
  const shortcut = stride !== 1 || inChannels !== planes ? projection(x, planes, stride, name, context) : x;
  return relu(tfl.layers.add({ name: `${name}_add` }).apply([out, shortcut]) as Tensor, `${name}_relu2`);
}

function bottleneckBlock(
  x: Tensor,
  inChannels: number,
  planes: number,
  stride: number,
  name: string,
  context: BuildContext,
): Tensor {
  const zeroGamma = context.config.zeroInitLastBatchNorm;
  let out = relu(batchNorm(conv(x, planes, 1, 1, `${name}_conv1`, context), `${name}_bn1`, context), `${name}_relu1`);
  out = relu(
    batchNorm(conv(out, planes, 3, stride, `${name}_conv2`, context), `${name}_bn2`, context),
    `${name}_relu2`,
  );
  out = batchNorm(conv(out, planes * 4, 1, 1, `${name}_conv3`, context), `${name}_bn3`, context, zeroGamma);
  const shortcut = stride !== 1 || inChannels !== planes * 4 ? projection(x, planes * 4, stride, name, context) : x;
  return relu(tfl.layers.add({ name: `${name}_add` }).apply([out, shortcut]) as Tensor, `${name}_relu3`);
}

/**
 * The projection shortcut: 1×1 conv (stride s) + BN, or its equal form 1×1 subsample (pool, stride s) + 1×1 stride-1
 * conv + BN, safe on oneDNN.
 */
function projection(x: Tensor, filters: number, stride: number, name: string, context: BuildContext): Tensor {
  if (context.config.shortcut === 'subsample' && stride > 1) {
    const subsampled = tfl.layers
      .averagePooling2d({ poolSize: 1, strides: stride, padding: 'valid', name: `${name}_shortcut_subsample` })
      .apply(x) as Tensor;
    return batchNorm(conv(subsampled, filters, 1, 1, `${name}_shortcut_conv`, context), `${name}_shortcut_bn`, context);
  }
  return batchNorm(conv(x, filters, 1, stride, `${name}_shortcut_conv`, context), `${name}_shortcut_bn`, context);
}

function conv(
  x: Tensor,
  filters: number,
  kernelSize: number,
  strides: number,
  name: string,
  context: BuildContext,
): Tensor {
  const kernelInitializer = kaimingNormalFanOut(kernelSize, filters, context.rng);
  return conv2dLayer({
    filters,
    kernelSize,
    strides,
    padding: kernelSize === 1 ? 'valid' : 'same',
    useBias: false,
    kernelInitializer,
    name,
  }).apply(x) as Tensor;
}

/** Batch-norm with PyTorch's momentum 0.1 (tfjs 0.9) and ε 1e-5, in the context's groups (1: the whole batch). */
function batchNorm(x: Tensor, name: string, context: BuildContext, zeroGamma = false): Tensor {
  const args = { momentum: 0.9, epsilon: 1e-5, gammaInitializer: zeroGamma ? 'zeros' : 'ones', name } as const;
  return splitBatchNormalization({ ...args, groups: context.batchNormGroups }).apply(x) as Tensor;
}

function relu(x: Tensor, name: string): Tensor {
  return tfl.layers.activation({ activation: 'relu', name }).apply(x) as Tensor;
}

/**
 * Makes a frozen 3-unit `Dense` layer compute `(x − mean) / std` per channel (diagonal kernel 1/std,
 * bias −mean/std): a built-in layer, identical in training and inference mode, saved as plain tfjs.
 * (A frozen `BatchNormalization` would not do: tfjs's batch-norm uses batch statistics, and moves its
 * moving ones, whenever it is called with `training: true`, trainable or not.)
 */
export function setNormalization(
  layer: tfl.layers.Layer,
  normalization: { mean: readonly number[]; std: readonly number[] },
): void {
  const channels = normalization.mean.length;
  const kernel = new Float32Array(channels * channels);
  normalization.std.forEach((s, c) => (kernel[c * channels + c] = 1 / s));
  const bias = Float32Array.from(normalization.mean, (m, c) => -m / normalization.std[c]);
  tf.tidy(() => layer.setWeights([tf.tensor2d(kernel, [channels, channels]), tf.tensor1d(bias)]));
}
