// @moco-robust/models — Node entry: everything of the browser entry, with saveModel/loadModel also taking directory
// paths.
export * from './index';
export { loadModel, saveModel } from './node/save-model';
export { fileSystemHandler } from './node/file-system-handler';
