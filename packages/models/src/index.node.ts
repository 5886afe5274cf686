// @moco-robust/models — Node entry: everything of the browser entry plus file-system saving.
export * from './index';

// saveModel / loadModel that also take directory paths and `file://` URLs
export { loadModel, saveModel } from './node/save-model';
export { fileSystemHandler } from './node/file-system-handler';
