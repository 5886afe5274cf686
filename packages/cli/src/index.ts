export { resolveRunConfig, PRESETS, PROTOCOLS } from './presets';
export type { PresetName, ProtocolName, RunConfig } from './presets';
export type { CliEvent, CliEventType } from './events';
export { ProgressRenderer } from './progress';
export type { ProgressStream } from './progress';
