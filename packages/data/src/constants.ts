// @moco-robust/data/constants — the CIFAR-10-C names, importable without loading tfjs (a CLI's `--help`, a config
// validator). The main entry exports the same values.
export { ALL_CORRUPTIONS, BENCHMARK_CORRUPTIONS, EXTRA_CORRUPTIONS, SEVERITIES } from './cifar10c/corruption';
export type { CorruptionName, Severity } from './cifar10c/corruption';
