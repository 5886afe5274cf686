// @moco-robust/data — browser-safe entry (the `node` export condition adds file-system loading: index.node.ts).

// CIFAR-10 in its official binary format
export { CIFAR10_CLASSES, CIFAR10_RECORD_BYTES, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES } from './cifar10/parse-cifar10';
export { concatImages, parseCifar10, takeImages } from './cifar10/parse-cifar10';
export type { Cifar10Images } from './cifar10/parse-cifar10';

// Image sets (uint8 HWC rows + int32 labels) and seeded batching
export { assertImageSet, batches, epochOrder, splitValidation, subsetImages } from './image-set';
export { gatherImages, sliceImages, sliceLabels } from './image-set';
export type { BatchOptions, ImageSet, LabelledImageSet } from './image-set';

// Augmentations: batched tensor ops with torchvision's semantics, MoCo's presets
export { augment, MOCO_V1_AUGMENTATION, MOCO_V2_AUGMENTATION, twoViews } from './augment/augment';
export type { AugmentationPipeline, TwoViews } from './augment/augment';
export { randomCropFlip } from './augment/random-crop-flip';

// CIFAR-10-C: the 19 corruptions × 5 severities, generated on the fly
export { ALL_CORRUPTIONS, BENCHMARK_CORRUPTIONS, EXTRA_CORRUPTIONS } from './cifar10c/corruption';
export type { Corruption, CorruptionContext, CorruptionName, FrostTexture, Severity } from './cifar10c/corruption';
export { corruptImages, corruptions, SEVERITIES } from './cifar10c/registry';
export type { CorruptedImages, CorruptImagesEvent, CorruptImagesOptions } from './cifar10c/registry';
export { MissingFrostTexturesError } from './cifar10c/missing-frost-textures-error';

// NumPy .npy arrays, byte-identical to np.save (the CIFAR-10-C release format)
export { readNpy, writeNpy } from './cifar10c/npy';
export type { NpyArray, NpyDtype } from './cifar10c/npy';
