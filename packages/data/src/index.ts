// @moco-robust/data — browser-safe entry (the `node` export condition adds file-system loading: index.node.ts).
export {
  CIFAR10_CLASSES,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  concatImages,
  parseCifar10,
  takeImages,
} from './cifar10/parse-cifar10';
export type { Cifar10Images } from './cifar10/parse-cifar10';
export { augment, cropBox, MOCO_V1_AUGMENTATION, MOCO_V2_AUGMENTATION, twoViews } from './augment/augment';
export type { TwoViews } from './augment/augment';
export type { AugmentationPipeline } from './augment/augment';
export { randomCropFlip } from './augment/random-crop-flip';
export { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, grayscale } from './augment/color';
export {
  assertImageSet,
  batches,
  epochOrder,
  gatherImages,
  imageBytes,
  sliceImages,
  sliceLabels,
  splitValidation,
  subsetImages,
} from './image-set';
export type { BatchOptions, ImageSet, LabelledImageSet } from './image-set';
// CIFAR-10-C (cifar10c/)
export { ALL_CORRUPTIONS, BENCHMARK_CORRUPTIONS, EXTRA_CORRUPTIONS } from './cifar10c/corruption';
export type { Corruption, CorruptionContext, CorruptionName, FrostTexture, Severity } from './cifar10c/corruption';
export { corruptImages, corruptions, SEVERITIES } from './cifar10c/registry';
export type { CorruptedImages, CorruptImagesEvent, CorruptImagesOptions } from './cifar10c/registry';
export { MissingFrostTexturesError } from './cifar10c/missing-frost-textures-error';
export { decodeNpyData, npyElementCount, npyHeaderBytes, parseNpyHeader, readNpy, writeNpy } from './cifar10c/npy';
export type { NpyArray, NpyDtype, NpyHeader } from './cifar10c/npy';
