import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { AUTOATTACK_VERSIONS } from '@moco-robust/attacks';
import { BACKEND_NAMES, MocoRobustError } from '@moco-robust/core';
import {
  FINETUNE_LOSSES,
  FINETUNE_MODES,
  FINETUNE_SCHEDULES,
  resolveFinetuneConfig,
  validateRobustnessSettings,
} from '@moco-robust/eval';
import { RESNET_PRESETS } from '@moco-robust/models';
import {
  ATTACK_BATCH_NORM_MODES,
  PRETRAIN_ATTACK_KINDS,
  PRETRAIN_COMBINES,
  PRETRAIN_SCHEDULES,
  resolvePretrainConfig,
} from '@moco-robust/moco';
import {
  finetuneSettings,
  PRESETS,
  PROTOCOLS,
  pretrainSettings,
  resolveRunConfig,
  robustnessSettings,
  withDerivedDefaults,
  type PresetName,
  type ProtocolName,
  type RunConfig,
} from './presets';
import { RENAMED_KEYS, upgradeSettings } from './upgrade-run-config';
import { UsageError } from './usage-error';

/** Allowed values of the config's string fields, by key path: the libraries' constants (other strings: free text). */
const CHOICES: Record<string, readonly string[]> = {
  preset: PRESETS,
  protocol: PROTOCOLS,
  backend: BACKEND_NAMES,
  'model.architecture': Object.keys(RESNET_PRESETS),
  'pretrain.attack.kind': PRETRAIN_ATTACK_KINDS,
  'pretrain.attack.batchNorm': ATTACK_BATCH_NORM_MODES,
  'pretrain.optimizer.schedule': PRETRAIN_SCHEDULES,
  'pretrain.combine': [...PRETRAIN_COMBINES, 'task'],
  'finetune.mode': FINETUNE_MODES,
  'finetune.loss': FINETUNE_LOSSES,
  'finetune.optimizer.schedule': FINETUNE_SCHEDULES,
  'eval.autoAttackVersion': Object.keys(AUTOATTACK_VERSIONS),
};

/**
 * The value checks of the config's library sections: each library's own validator of its config type (one validator
 * per setting), run on the run's section; its error names the setting by its key path in the run config.
 */
const SECTION_CHECKS: Record<string, (config: RunConfig) => unknown> = {
  pretrain: (config) => resolvePretrainConfig(pretrainSettings(config)),
  finetune: (config) => resolveFinetuneConfig(finetuneSettings(config)),
  eval: (config) => validateRobustnessSettings(robustnessSettings(config)),
};

/** Settings only the CLI reads, outside the libraries' config types: numbers among them must not be negative. */
const CLI_ONLY = /^(seed|data\.|model\.|pretrain\.(temperature|queueSize)$|eval\.cifar10cImages$)/;

/**
 * Checks the `sections` of `config` (`pretrain`, `finetune`, `eval`; all three when omitted) with the libraries'
 * validators, before anything is written: a bad value throws a {@link UsageError} naming its key path
 * (`pretrain.attack.epsilon`), what is valid and what was given; `source` says where it came from.
 */
export function checkRunConfig(config: RunConfig, source: string, sections = Object.keys(SECTION_CHECKS)): void {
  for (const section of sections) {
    try {
      SECTION_CHECKS[section]?.(config);
    } catch (error) {
      if (!MocoRobustError.isInstance(error)) throw error;
      const argument = (error as { argument?: string }).argument;
      const key = argument === 'seed' ? 'seed' : `${section}.${argument?.replace(/^settings\./, '')}`; // the run's seed
      const message = argument ? error.message.replace(`'${argument}'`, `'${key}'`) : error.message;
      throw new UsageError(`${source}: ${message}`);
    }
  }
}

/** Keys that would reach an object's prototype; refused in every settings path. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Keys that may be absent from the defaults (optional settings). */
const OPTIONAL: Record<string, 'string' | 'number' | 'boolean'> = {
  backend: 'string',
  from: 'string',
  'finetune.checkpointKeep': 'number',
  'eval.autoAttackVersion': 'string',
  'eval.autoAttackSteps': 'number',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Applies `overrides` (a partial config from a file or flags) to `base`, key by key: an unknown key (a renamed one
 * named with its new path), a value of the wrong type or outside its choices throws a {@link UsageError} naming the
 * key, what is valid and what was given (`source` says where it came from); then the sections it changed are checked
 * by the libraries' validators ({@link checkRunConfig}). Returns a new config.
 */
export function applyOverrides(base: RunConfig, overrides: Record<string, unknown>, source: string): RunConfig {
  const merge = (
    target: Record<string, unknown>,
    patch: Record<string, unknown>,
    prefix: string,
  ): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) throw new UsageError(`${source}: '${path}' is not a setting`);
      const current = Object.hasOwn(target, key) ? target[key] : undefined;
      const renamed = RENAMED_KEYS[path];
      if (renamed && (!Object.hasOwn(target, key) || typeof value !== 'object'))
        throw new UsageError(
          `${source}: '${path}' is now '${renamed}'${key === 'attack' ? ' (pgd, fgsm or none)' : ''}`,
        );
      if (!Object.hasOwn(target, key) && !Object.hasOwn(OPTIONAL, path)) {
        throw new UsageError(
          `${source}: unknown key '${path}'; valid keys${prefix ? ` in '${prefix}'` : ''}: ${Object.keys(target)
            .concat(
              Object.keys(OPTIONAL).flatMap((k) =>
                prefix ? (k.startsWith(`${prefix}.`) ? [k.slice(prefix.length + 1)] : []) : k.includes('.') ? [] : [k],
              ),
            )
            .join(', ')}`,
        );
      }
      const expected = current === undefined ? OPTIONAL[path] : Array.isArray(current) ? 'array' : typeof current;
      if (expected === 'object') {
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          throw new UsageError(
            `${source}: '${path}' must be a section (an object of ` +
              `${Object.keys(current as object).join(', ')}); got ${JSON.stringify(value)}`,
          );
        out[key] = merge(current as Record<string, unknown>, value as Record<string, unknown>, path);
        continue;
      }
      const actual = Array.isArray(value) ? 'array' : typeof value;
      if (actual !== expected)
        throw new UsageError(`${source}: '${path}' must be a ${expected}; got ${JSON.stringify(value)}`);
      if (expected === 'number' && !Number.isFinite(value as number))
        throw new UsageError(`${source}: '${path}' must be a finite number; got ${String(value)}`);
      if (expected === 'number' && CLI_ONLY.test(path) && (value as number) < 0)
        throw new UsageError(`${source}: '${path}' must not be negative; got ${String(value)}`);
      const choices = CHOICES[path];
      if (choices && !choices.includes(value as string))
        throw new UsageError(`${source}: '${path}' must be one of ${choices.join(', ')}; got '${String(value)}'`);
      out[key] = value;
    }
    return out;
  };
  const config = merge(base as unknown as Record<string, unknown>, overrides, '') as unknown as RunConfig;
  const touched = Object.hasOwn(overrides, 'seed') ? undefined : Object.keys(overrides);
  checkRunConfig(config, source, touched);
  return config;
}

/** Reads a JSON or YAML (`.yaml`/`.yml`) config file as a plain object, naming the file on errors. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let value: Json;
  try {
    if (['.yaml', '.yml'].includes(extname(path).toLowerCase())) {
      const { parse } = await import('yaml');
      value = parse(text) as Json;
    } else {
      value = JSON.parse(text) as Json;
    }
  } catch (error) {
    throw new UsageError(
      `--config: ${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ` +
        `${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(
      `--config: ${path} must hold an object of settings; got ${JSON.stringify(value)?.slice(0, 40)}`,
    );
  return value;
}

/**
 * The resolved settings of a run: the preset × protocol defaults (from flags, else the config file,
 * else `fallbackPreset` / `standard`), then the config file, then the flags' overrides.
 */
export async function resolveConfig(options: {
  preset?: string;
  protocol?: string;
  configFile?: string;
  seed?: number;
  fallbackPreset?: PresetName;
  overrides?: Record<string, unknown>;
}): Promise<RunConfig> {
  const file = options.configFile ? await readConfigFile(options.configFile) : {};
  const preset = (options.preset ??
    (file.preset as string | undefined) ??
    options.fallbackPreset ??
    'demo') as PresetName;
  const protocol = (options.protocol ?? (file.protocol as string | undefined) ?? 'standard') as ProtocolName;
  if (!PRESETS.includes(preset))
    throw new UsageError(
      `${options.configFile ?? '--preset'}: 'preset' must be one of ${PRESETS.join(', ')}; got '${preset}'`,
    );
  if (!PROTOCOLS.includes(protocol))
    throw new UsageError(
      `${options.configFile ?? '--protocol'}: 'protocol' must be one of ${PROTOCOLS.join(', ')}; got '${protocol}'`,
    );
  let config = resolveRunConfig(preset, protocol, 0);
  // a config file in the shape of an older CLI's config.json gets today's names, as a saved run does on --resume
  const settings = upgradeSettings(file);
  if (options.configFile) config = applyOverrides(config, { ...settings, preset, protocol }, options.configFile);
  const flags = { ...options.overrides, ...(options.seed === undefined ? {} : { seed: options.seed }) };
  const resolved = withDerivedDefaults(applyOverrides(config, flags, 'flags'), [settings, flags]);
  checkRunConfig(resolved, 'settings'); // the derived defaults too
  return resolved;
}

/**
 * `a.b=c` flag values (`--set pretrain.epochs=3`) as a nested override object; values parse as JSON when they can.
 * Refuses empty keys, `__proto__` / `constructor` / `prototype`, and paths that conflict (`a.b=1` with `a.b.c=2`).
 */
export function parseSetFlags(values: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const leaves = new Map<string, string>(); // key path → the --set entry that gave it a value
  for (const entry of values) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set: expected key=value (e.g. pretrain.epochs=3); got '${entry}'`);
    const path = entry.slice(0, eq);
    const keys = path.split('.');
    if (keys.some((k) => k === '')) throw new UsageError(`--set: '${path}' has an empty key; got '${entry}'`);
    const forbidden = keys.find((k) => FORBIDDEN_KEYS.has(k));
    if (forbidden) throw new UsageError(`--set: '${forbidden}' is not a setting (in '${entry}')`);
    for (const [other, from] of leaves) {
      if (other !== path && (other.startsWith(`${path}.`) || path.startsWith(`${other}.`)))
        throw new UsageError(
          `--set: '${entry}' conflicts with '${from}' (one sets a section, the other a value in it)`,
        );
    }
    leaves.set(path, entry);
    const raw = entry.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    let node = out;
    for (const key of keys.slice(0, -1)) {
      if (!Object.hasOwn(node, key)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys.at(-1)!] = value;
  }
  return out;
}
