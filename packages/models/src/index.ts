// @moco-robust/models — browser-safe entry (the `node` export condition adds file-system saving: see index.node.ts).
export { CIFAR10_MEAN, CIFAR10_STD, createResnetEncoder, setNormalization } from './resnet';
export type { ResnetEncoder, ResnetEncoderOptions } from './resnet';
export { featureWidth, RESNET_PRESETS, resolveResnetConfig } from './resnet-config';
export type { ResnetConfig, ResnetPreset } from './resnet-config';
export {
  BATCH_NORM_GROUPS_METADATA,
  batchNormGroupsByLayer,
  batchNormGroupsOf,
  recordBatchNormGroups,
  restoreBatchNormGroups,
  splitBatchNormalization,
} from './split-batch-normalization';
export { classifierHead, composeModels, projectionHead } from './heads';
export type { ProjectionHeadOptions } from './heads';
export { countTrainableParameters, trainableVariables } from './trainable-variables';
export { copyWeights } from './copy-weights';
export { flattenLayers, freezeStages, stageOfLayer } from './freeze-stages';
export { loadModel, saveModel } from './save-model';
export type { ModelLocation } from './save-model';
export { conv2dLayer, withPlainConvolutions } from './conv2d-layer';
export { kaimingNormalFanOut, linearInit } from './initializers';
