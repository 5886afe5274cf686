// @moco-robust/models — browser-safe entry (the `node` export condition adds file-system saving: see index.node.ts).

// CIFAR ResNet encoders (normalisation inside the model: inputs are images in [0, 1])
export { CIFAR10_MEAN, CIFAR10_STD, createResnetEncoder } from './resnet';
export type { ResnetEncoder, ResnetEncoderOptions } from './resnet';
export { RESNET_PRESETS, resolveResnetConfig } from './resnet-config';
export type { ResnetConfig, ResnetPreset } from './resnet-config';

// Heads: MoCo projection (linear or MLP), classifier, and an encoder + head as one model
export { classifierHead, composeModels, projectionHead } from './heads';
export type { ProjectionHeadOptions } from './heads';

// Weights: stages to freeze for fine-tuning, copies, trainable variables and parameter counts
export { freezeStages, stageOfLayer } from './freeze-stages';
export { copyWeights } from './copy-weights';
export { countTrainableParameters, trainableVariables } from './trainable-variables';
export { linearInit } from './initializers';

// Save and load in the tfjs layers format (plain `tf.loadLayersModel` loads the result)
export { loadModel, saveModel } from './save-model';
export { keptTransforms, releaseLayerOutputs } from './release-layer-outputs';
export type { ModelLocation } from './save-model';
