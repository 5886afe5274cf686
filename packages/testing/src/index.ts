export { cifar10cReferenceDir, cifarSampleDir, hideModulesHook, repoRootDir, sharedPath } from './shared-data';
export { availableTestBackends, leakedTensors, nativeOpsRun, useBackend, useFastestBackend } from './backends';
export { maxAbsDiff, maxRelDiff } from './tolerance';
export { readCifarSample } from './cifar-sample';
export type { SampleImages } from './cifar-sample';
export { tinyEncoderModel, tinyPretextEncoder } from './tiny-models';
export { chromiumPath, writeScreenshot, withHeadlessChromium } from './headless-chromium';
