import { PRETRAIN_ATTACK_NAMES } from '@moco-robust/moco';
import { canonicalJson } from './canonical-json';
import {
  PRESETS,
  PROTOCOLS,
  pretrainAttackKind,
  resolveRunConfig,
  validationPgdSteps,
  type PresetName,
  type ProtocolName,
  type RunConfig,
} from './presets';

/**
 * The settings renamed when the run config became the libraries' config types (CLI 0.x, issue 20): the old key path →
 * the new one. `pretrain.attack` also changed its values (`moco-pgd` → `pgd`: the library's `attack.kind`).
 */
export const RENAMED_KEYS: Readonly<Record<string, string>> = {
  'pretrain.attack': 'pretrain.attack.kind',
  'pretrain.epsilon': 'pretrain.attack.epsilon',
  'pretrain.stepSize': 'pretrain.attack.stepSize',
  'pretrain.steps': 'pretrain.attack.steps',
  'pretrain.learningRate': 'pretrain.optimizer.learningRate',
  'pretrain.weightDecay': 'pretrain.optimizer.weightDecay',
  'pretrain.checkpointEverySteps': 'pretrain.checkpoint.everySteps',
  'pretrain.checkpointKeep': 'pretrain.checkpoint.keep',
  'finetune.epsilon': 'finetune.attack.epsilon',
  'finetune.stepSize': 'finetune.attack.stepSize',
  'finetune.steps': 'finetune.attack.steps',
  'finetune.learningRate': 'finetune.optimizer.learningRate',
  'finetune.weightDecay': 'finetune.optimizer.weightDecay',
  'finetune.validationImages': 'finetune.validationSize',
  'eval.autoAttack': 'eval.autoAttackVersion',
};

type Settings = Record<string, unknown>;
const isSection = (value: unknown): value is Settings =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Settings (a whole config.json or part of one, e.g. a config file) with every old key of {@link RENAMED_KEYS} moved to
 * its new path; settings already in the new shape are returned unchanged.
 */
export function upgradeSettings(settings: Settings): Settings {
  const out = structuredClone(settings);
  for (const [from, to] of Object.entries(RENAMED_KEYS)) {
    const [section, key] = from.split('.') as [string, string];
    const node = out[section];
    if (!isSection(node) || !Object.hasOwn(node, key)) continue;
    const value = node[key];
    if (from === 'pretrain.attack' && isSection(value)) continue; // already the new section
    delete node[key];
    let target = out;
    const path = to.split('.');
    for (const part of path.slice(0, -1)) {
      if (!isSection(target[part])) target[part] = {};
      target = target[part] as Settings;
    }
    target[path.at(-1)!] = from === 'pretrain.attack' && typeof value === 'string' ? pretrainAttackKind(value) : value;
  }
  return out;
}

/** `patch` merged into `base` section by section (objects merge, any other value replaces); returns a new object. */
export function deepMerge(base: Settings, patch: Settings): Settings {
  const out: Settings = { ...base };
  for (const [key, value] of Object.entries(patch))
    out[key] = isSection(value) && isSection(out[key]) ? deepMerge(out[key] as Settings, value) : value;
  return out;
}

/**
 * A run's saved `config.json` in today's shape: one written before the settings were renamed ({@link RENAMED_KEYS})
 * gets the new names, and the settings it did not record take the values that run used — its preset × protocol's,
 * `finetune.validationPgdSteps` from its attack steps — so `--resume` continues it exactly. A current config is
 * returned as it is.
 */
export function upgradeRunConfig(saved: Settings): RunConfig {
  const settings = upgradeSettings(saved);
  const preset = (PRESETS as readonly unknown[]).includes(saved.preset) ? (saved.preset as PresetName) : 'demo';
  const protocol = (PROTOCOLS as readonly unknown[]).includes(saved.protocol)
    ? (saved.protocol as ProtocolName)
    : 'standard';
  const finetune = saved.finetune;
  const derived: Settings =
    isSection(finetune) && typeof finetune.steps === 'number' && !Object.hasOwn(finetune, 'validationPgdSteps')
      ? { finetune: { validationPgdSteps: validationPgdSteps(finetune.steps) } }
      : {};
  const base = resolveRunConfig(preset, protocol, 0) as unknown as Settings;
  return deepMerge(deepMerge(base, settings), derived) as unknown as RunConfig;
}

/**
 * `config` in the shape run configs had before {@link RENAMED_KEYS} (what a grid cell's hash was computed over), or
 * `undefined` when that shape cannot hold it (a setting the old shape did not have is set to a value other than the
 * one {@link upgradeRunConfig} gives it back).
 */
export function legacyRunConfig(config: RunConfig): Settings | undefined {
  const { pretrain: p, finetune: f, eval: e, ...rest } = config;
  const legacy: Settings = {
    ...rest,
    pretrain: {
      method: p.method,
      attack: PRETRAIN_ATTACK_NAMES[p.attack.kind],
      epochs: p.epochs,
      batchSize: p.batchSize,
      learningRate: p.optimizer.learningRate,
      weightDecay: p.optimizer.weightDecay,
      epsilon: p.attack.epsilon,
      stepSize: p.attack.stepSize,
      steps: p.attack.steps,
      queueSize: p.queueSize,
      temperature: p.temperature,
      combine: p.combine,
      checkpointEverySteps: p.checkpoint.everySteps,
      ...(p.checkpoint.keep === resolveRunConfig(config.preset, config.protocol, 0).pretrain.checkpoint.keep
        ? {}
        : { checkpointKeep: p.checkpoint.keep }),
    },
    finetune: {
      mode: f.mode,
      frozenStages: f.frozenStages,
      loss: f.loss,
      epochs: f.epochs,
      batchSize: f.batchSize,
      learningRate: f.optimizer.learningRate,
      weightDecay: f.optimizer.weightDecay,
      epsilon: f.attack.epsilon,
      stepSize: f.attack.stepSize,
      steps: f.attack.steps,
      validationImages: f.validationSize,
      checkpointEverySteps: f.checkpointEverySteps,
      checkpointKeep: f.checkpointKeep,
    },
    eval: {
      fgsmEpsilon: e.fgsmEpsilon,
      pgdEpsilon: e.pgdEpsilon,
      pgdStepSize: e.pgdStepSize,
      pgdSteps: e.pgdSteps,
      pgdRestarts: e.pgdRestarts,
      cifar10c: e.cifar10c,
      cifar10cImages: e.cifar10cImages,
      autoAttack: e.autoAttackVersion,
      autoAttackSteps: e.autoAttackSteps,
    },
  };
  return canonicalJson(upgradeRunConfig(legacy)) === canonicalJson(config) ? legacy : undefined;
}
