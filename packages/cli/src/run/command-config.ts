import { selectBackend, type BackendName, type BackendSelectedEvent } from '@moco-robust/core';
import { checkRunConfig, parseSetFlags, resolveConfig } from '../config';
import { integerFlag } from '../parse-flags';
import type { PresetName, RunConfig } from '../presets';
import { UsageError } from '../usage-error';
import { deepMerge, upgradeRunConfig } from '../upgrade-run-config';
import { readRunConfig, type RunDir } from './run-dir';

// declared in a file that imports nothing, for the command table: `--help` never loads tfjs
export { RUN_FLAGS } from '../flags/run-flags';

type RunFlagValues = {
  preset?: string;
  protocol?: string;
  config?: string;
  set?: string[];
  seed?: string;
  backend?: string;
  resume?: boolean;
  out?: string;
};

/**
 * The run's settings: on `--resume` the run's saved `config.json` (settings flags are refused: a
 * resumed run must continue as it started); otherwise presets ← config file ← flags.
 */
export async function commandConfig(
  command: string,
  values: RunFlagValues,
  overrides: Record<string, unknown>,
  fallbackPreset: PresetName = 'demo',
): Promise<RunConfig> {
  if (values.resume) {
    if (!values.out) throw new UsageError(`${command}: --resume needs --out <the run directory to continue>`);
    const changed = (['preset', 'protocol', 'config', 'seed'] as const)
      .filter((k) => values[k] !== undefined)
      .concat(values.set?.length ? (['set'] as never[]) : [])
      .concat(Object.keys(overrides).length ? (['method/attack/mode flags'] as never[]) : []);
    if (changed.length > 0)
      throw new UsageError(
        `${command}: --resume continues with the run's saved settings; drop ` +
          `${changed.map((k) => (k.startsWith('--') || k.includes(' ') ? k : `--${k}`)).join(', ')}`,
      );
    return upgradeRunConfig(await readRunConfig<Record<string, unknown>>(values.out)); // an older CLI's too
  }
  const set = parseSetFlags(values.set ?? []);
  return resolveConfig({
    preset: values.preset,
    protocol: values.protocol,
    configFile: values.config,
    seed: values.seed === undefined ? undefined : integerFlag(command, 'seed', values.seed, 0),
    fallbackPreset,
    overrides: deepMerge(set, overrides),
  });
}

/** A backend selected before the run directory was opened, with the selection's events for the run's log. */
export interface PreparedBackend {
  name: string;
  events: BackendSelectedEvent[];
}

/**
 * Selects the backend (flag, else the config's, else the fastest that loads) without writing anything, so models can
 * be loaded and checked before the run directory exists; {@link startRun} replays its events into the run's log.
 */
export async function prepareBackend(config: RunConfig, backendFlag: string | undefined): Promise<PreparedBackend> {
  const events: BackendSelectedEvent[] = [];
  const selection = await selectBackend({
    backend: (backendFlag ?? config.backend) as BackendName | undefined,
    onEvent: (event) => events.push(event),
  });
  return { name: selection.name, events };
}

/**
 * Selects the backend (a {@link prepareBackend} result, else the flag, else the config's, else the fastest that
 * loads) and records it in the config; saves config.json on a new run.
 */
export async function startRun(
  run: RunDir,
  config: RunConfig,
  backend: string | undefined | PreparedBackend,
): Promise<string> {
  const prepared = typeof backend === 'object' ? backend : await prepareBackend(config, backend);
  if (!run.resumed) {
    // config.json first: a run killed after it can be resumed, one killed before holds nothing
    config.backend = prepared.name;
    await run.writeJson('config.json', config);
  }
  for (const event of prepared.events) run.renderer.listener(event);
  if (run.resumed) run.renderer.line(`resuming ${run.out} on the ${prepared.name} backend`);
  return prepared.name;
}

/**
 * Range-checks the settings `command` will use with the libraries' own validators, before anything is written: a bad
 * value fails here with the library's error naming the setting (exit code 2), and the output folder is untouched.
 */
export async function validateSettings(command: 'pretrain' | 'finetune' | 'demo', config: RunConfig): Promise<void> {
  const sections = { pretrain: ['pretrain'], finetune: ['finetune'], demo: ['pretrain', 'finetune', 'eval'] }[command];
  checkRunConfig(config, command, sections);
}
