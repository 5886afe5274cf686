import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  validateEpsilon,
  validateRestarts,
  validateStepSize,
  validateSteps,
  type SettingCheck,
} from '@moco-robust/attacks';
import { BACKEND_NAMES, MocoRobustError } from '@moco-robust/core';
import { RESNET_PRESETS } from '@moco-robust/models';
import {
  PRESETS,
  PROTOCOLS,
  resolveRunConfig,
  withMethodDefaults,
  type PresetName,
  type ProtocolName,
  type RunConfig,
} from './presets';
import { UsageError } from './usage-error';

/** Allowed values of the config's string fields, by key path (other string fields are free text). */
const CHOICES: Record<string, readonly string[]> = {
  preset: PRESETS,
  protocol: PROTOCOLS,
  backend: BACKEND_NAMES,
  'model.architecture': Object.keys(RESNET_PRESETS),
  'pretrain.attack': ['moco-pgd', 'moco-fgsm', 'none'],
  'pretrain.combine': ['adversarial', 'mean', 'task'],
  'finetune.mode': ['linear', 'partial', 'full'],
  'finetune.loss': ['standard', 'adversarial', 'mixed', 'trades'],
  'eval.autoAttack': ['standard', 'cpu'],
};

/**
 * The attack settings' validators, by key path: the attacks library's own (one validator per setting), told the CLI's
 * name for the setting. Pre-training and fine-tuning attacks must take a step (their libraries ask for ≥ 1).
 */
const VALIDATORS: Record<string, (value: unknown, check: Pick<SettingCheck, 'argument'>) => unknown> = {
  'pretrain.epsilon': validateEpsilon,
  'pretrain.stepSize': validateStepSize,
  'pretrain.steps': (value, check) => validateSteps(value, { ...check, minimum: 1 }),
  'finetune.epsilon': validateEpsilon,
  'finetune.stepSize': validateStepSize,
  'finetune.steps': (value, check) => validateSteps(value, { ...check, minimum: 1 }),
  'eval.fgsmEpsilon': validateEpsilon,
  'eval.pgdEpsilon': validateEpsilon,
  'eval.pgdStepSize': validateStepSize,
  'eval.pgdSteps': validateSteps,
  'eval.pgdRestarts': validateRestarts,
};

/** Keys that would reach an object's prototype; refused in every settings path. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Keys that may be absent from the defaults (optional settings). */
const OPTIONAL: Record<string, 'string' | 'number' | 'boolean'> = {
  backend: 'string',
  from: 'string',
  'pretrain.checkpointKeep': 'number',
  'finetune.checkpointKeep': 'number',
  'eval.autoAttack': 'string',
  'eval.autoAttackSteps': 'number',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Applies `overrides` (a partial config from a file or flags) to `base`, key by key: an unknown key,
 * a value of the wrong type or outside its choices throws a {@link UsageError} naming the key, what is
 * valid and what was given (`source` says where it came from). Returns a new config.
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
      if (expected === 'number' && (value as number) < 0)
        throw new UsageError(`${source}: '${path}' must not be negative; got ${String(value)}`);
      if (path.endsWith('.checkpointKeep') && !(Number.isInteger(value) && (value as number) >= 1))
        throw new UsageError(`${source}: '${path}' must be an integer ≥ 1 (checkpoints kept); got ${String(value)}`);
      const validate = VALIDATORS[path];
      if (validate) {
        try {
          validate(value, { argument: path });
        } catch (error) {
          if (MocoRobustError.isInstance(error)) throw new UsageError(`${source}: ${error.message}`);
          throw error;
        }
      }
      const choices = CHOICES[path];
      if (choices && !choices.includes(value as string))
        throw new UsageError(`${source}: '${path}' must be one of ${choices.join(', ')}; got '${String(value)}'`);
      out[key] = value;
    }
    return out;
  };
  return merge(base as unknown as Record<string, unknown>, overrides, '') as unknown as RunConfig;
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
  if (options.configFile) config = applyOverrides(config, { ...file, preset, protocol }, options.configFile);
  const flags = { ...options.overrides, ...(options.seed === undefined ? {} : { seed: options.seed }) };
  return withMethodDefaults(applyOverrides(config, flags, 'flags'), [file, flags]);
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
