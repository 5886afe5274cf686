/**
 * `@moco-robust/moco/bench`: MoCo pre-training steps per second (plain, MoCo-FGSM, MoCo-PGD), as `moco-robust bench`
 * reports it. Kept out of the main entry so the public API is the library's, not its benchmark harness.
 * @packageDocumentation
 */
export { benchmarkPretrain } from './benchmark-pretrain';
export type { PretrainBenchmarkOptions, PretrainBenchmarkResult } from './benchmark-pretrain';
