// @moco-robust/eval — Node entry: everything of the browser entry plus files.
export * from './index';

// The official CIFAR-10-C arrays, and reports written to a directory (report.json, report.md, charts, index.html)
export { officialCorruptions } from './node/official-corruptions';
export { writeReport } from './node/write-report';
export type { WrittenReport } from './node/write-report';
export { encodePng } from './node/png';
