// @moco-robust/eval — Node entry: everything of the browser entry plus files (official CIFAR-10-C arrays, written
// reports).
export * from './index';
export { officialCorruptions } from './node/official-corruptions';
export { encodePng, pngDataUrl } from './node/png';
export { writeReport } from './node/write-report';
export type { WrittenReport } from './node/write-report';
