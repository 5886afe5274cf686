/**
 * `@moco-robust/models/bench`: ResNet forward and training-step throughput, as `moco-robust bench` reports it. Kept out
 * of the main entry so the public API is the library's, not its benchmark harness.
 * @packageDocumentation
 */
export { benchmarkResnet } from './benchmark-resnet';
export type { ResnetBenchmarkOptions, ResnetBenchmarkResult } from './benchmark-resnet';
