/**
 * `@moco-robust/core/bench`: the conv2d micro-benchmark `moco-robust bench` reports per backend. Kept out of the main
 * entry so the public API is the library's, not its benchmark harness.
 * @packageDocumentation
 */
export { benchmarkConv2d, STANDARD_CONV_SHAPE } from './backend/benchmark-conv';
export type { ConvBenchmarkResult, ConvBenchmarkShape } from './backend/benchmark-conv';
