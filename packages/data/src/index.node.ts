// @moco-robust/data — Node entry: everything of the browser entry plus file-system loading and downloads.
export * from './index';

// CIFAR-10 from a folder of .bin files or the official .tar.gz; --data / MOCO_ROBUST_DATA, else the cache
export { CIFAR10_LOCATION, findCifar10, loadCifar10, locateCifar10 } from './cifar10/load-cifar10';
export type { Cifar10 } from './cifar10/load-cifar10';
export { resolveCifar10 } from './cifar10/resolve-cifar10';
export type { ResolveCifar10Options, ResolvedCifar10 } from './cifar10/resolve-cifar10';

// CIFAR-10-C on disk: the release layout (read and write), the generator on worker threads, frost textures
export { loadCifar10C } from './cifar10c/cifar10c-loader';
export type { Cifar10CBlock } from './cifar10c/cifar10c-loader';
export { checkCifar10CFolder } from './cifar10c/check-cifar10c-folder';
export type { Cifar10CFolder } from './cifar10c/check-cifar10c-folder';
export { createCifar10CWriter, writeCifar10C } from './cifar10c/cifar10c-writer';
export type { Cifar10CBlockToWrite, Cifar10CWriter, Cifar10CWriterOptions } from './cifar10c/cifar10c-writer';
export { corruptImagesParallel } from './cifar10c/corrupt-images-parallel';
export type { CorruptImagesParallelEvent, CorruptImagesParallelOptions } from './cifar10c/corrupt-images-parallel';
export { loadFrostTextures } from './cifar10c/frost-textures';
export { fetchFrostTextures, FROST_TEXTURE_SOURCES, FROST_TEXTURES_BASE_URL } from './cifar10c/fetch-frost-textures';
export type { FetchFrostTexturesEvent, FetchFrostTexturesOptions } from './cifar10c/fetch-frost-textures';

// Downloads: checksum-verified, resumable (<file>.part), into a cache
export { CIFAR10_SOURCE, CIFAR10C_SOURCE, defaultCacheDir } from './download/datasets';
export { downloadCifar10, downloadCifar10C } from './download/datasets';
export type { DatasetDownloadOptions } from './download/datasets';
export { downloadFile } from './download/download-file';
export type { DownloadEvent, DownloadFileOptions } from './download/download-file';
export { ChecksumError } from './download/checksum-error';
