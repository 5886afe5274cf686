import { createHash } from 'node:crypto';
import { applyOverrides } from '../config';
import {
  PRESETS,
  PROTOCOLS,
  pretrainAttackKind,
  resolveRunConfig,
  withDerivedDefaults,
  type PresetName,
  type ProtocolName,
  type RunConfig,
} from '../presets';
import { AUTOATTACK_VERSIONS, GRID_ATTACKS } from '../flags/choices';
import { canonicalJson } from '../canonical-json';
import { legacyRunConfig, upgradeSettings } from '../upgrade-run-config';
import { UsageError } from '../usage-error';
import { GRID_PRESETS } from './grid-presets';

/** Pre-training attacks of a grid: label-free MoCo-PGD / MoCo-FGSM (a baseline: PGD / FGSM on its loss) or none. */
export { GRID_ATTACKS }; // defined in flags/choices.ts, which `--help` loads without tfjs
export type GridAttack = (typeof GRID_ATTACKS)[number];

/** The paper's Table 1 methods plus the `none` control (adversarial fine-tuning from random initialisation). */
export const TABLE_1_METHODS = ['none', 'moco-v1', 'moco-v2', 'jigsaw', 'rotation', 'selfie', 'rocl'];

/** AutoAttack versions a grid can evaluate: `standard` (APGD-CE, APGD-T, FAB-T, Square) or `cpu` (APGD-CE + APGD-T). */
export const GRID_AUTOATTACK_VERSIONS = AUTOATTACK_VERSIONS;

/** A grid: every method × pre-training attack × architecture × seed, at one preset and protocol. */
export interface GridSpec {
  /** Shown as the report's title. */
  name: string;
  preset: PresetName;
  protocol: ProtocolName;
  /** `none`, `moco-v1`, `moco-v2` or a plugin (`jigsaw`, `rotation`, `selfie`, `rocl`, any package name). */
  methods: string[];
  /** `none` as a method ignores this list (it has no pre-training). */
  attacks: GridAttack[];
  /** Per-method pre-training attacks instead of `attacks` (e.g. clean pre-training for MoCo only; RoCL's own). */
  methodAttacks?: Record<string, GridAttack[]>;
  /** Evaluate every cell with AutoAttack too (this version), besides clean, FGSM and PGD; absent: not run. */
  autoattack?: (typeof GRID_AUTOATTACK_VERSIONS)[number];
  architectures: string[];
  seeds: number[];
  /** Settings every cell gets (keys as in a run's config.json), e.g. `{ finetune: { epochs: 2 } }`. */
  settings: Record<string, unknown>;
  /** The method paired differences are taken against; default `moco-v1` when in the grid, else `moco-v2`. */
  reference?: string;
}

/** One cell of a grid: a complete run (pre-train → adversarial fine-tune → evaluate) and its directory name. */
export interface GridCell {
  /** `<method>.<attack>.<architecture>.s<seed>.<hash>` (`none.<architecture>.s<seed>.<hash>` for the control). */
  name: string;
  /** First 10 hex digits of the SHA-256 of the canonical JSON of `config`: the cell's identity (a worker's job id). */
  hash: string;
  method: string;
  pretrainAttack: GridAttack;
  architecture: string;
  seed: number;
  config: RunConfig;
}

const SPEC_KEYS = [
  'name',
  'preset',
  'protocol',
  'methods',
  'attacks',
  'methodAttacks',
  'autoattack',
  'architectures',
  'seeds',
  'settings',
  'reference',
];

/**
 * The cell's identity: 10 hex digits of the SHA-256 of its canonical config — in the shape run configs had before
 * their settings took the libraries' names ({@link legacyRunConfig}) whenever that shape holds it, so a grid made
 * before keeps its cell names and resumes; a config using a setting only the new shape has hashes as it is.
 */
export function cellHash(config: RunConfig): string {
  return createHash('sha256')
    .update(canonicalJson(legacyRunConfig(config) ?? config))
    .digest('hex')
    .slice(0, 10);
}

/** `0,1,2` or `0-2` (or a mix: `0-2,7`) as seed numbers. */
export function parseSeeds(text: string): number[] {
  const seeds = text.split(',').flatMap((part) => {
    const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from) throw new UsageError(`grid: --seeds range '${part}' ends before it starts`);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    }
    if (!/^\s*\d+\s*$/.test(part))
      throw new UsageError(`grid: --seeds expects integers or ranges (0,1,2 or 0-2); got '${part}'`);
    return [Number(part)];
  });
  return seeds;
}

function attackList(source: string, key: string, value: unknown): GridAttack[] {
  const attacks = list(source, key, value) as GridAttack[];
  for (const a of attacks)
    if (!GRID_ATTACKS.includes(a))
      throw new UsageError(`${source}: '${key}' must hold ${GRID_ATTACKS.join(', ')}; got '${a}'`);
  return attacks;
}

function list(source: string, key: string, value: unknown): string[] {
  const items = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(items) || items.length === 0 || items.some((v) => typeof v !== 'string' || v === ''))
    throw new UsageError(`${source}: '${key}' must be a non-empty list of names; got ${JSON.stringify(value)}`);
  return [...new Set(items as string[])];
}

/**
 * A complete grid spec from a partial one (a spec file's object with flags applied over it): unknown keys, bad
 * attacks, presets, protocols or seeds throw a {@link UsageError} naming the key; defaults are the paper's Table 1
 * (its methods and `none`, MoCo-PGD and MoCo-FGSM, ResNet-18 and -50 at `full`, else the preset's model, seeds 0–2),
 * under the keys a grid preset ({@link GRID_PRESETS}, e.g. `study`) sets.
 */
export function resolveGridSpec(given: Record<string, unknown>, source = 'grid'): GridSpec {
  for (const key of Object.keys(given))
    if (!SPEC_KEYS.includes(key))
      throw new UsageError(`${source}: unknown key '${key}'; valid keys: ${SPEC_KEYS.join(', ')}`);
  const gridPreset = GRID_PRESETS[given.preset as string];
  const partial: Record<string, unknown> = { ...gridPreset, ...given };
  const preset = (partial.preset ?? 'demo') as PresetName;
  const protocol = (partial.protocol ?? 'standard') as ProtocolName;
  if (!PRESETS.includes(preset))
    throw new UsageError(`${source}: 'preset' must be one of ${PRESETS.join(', ')}; got '${String(preset)}'`);
  if (!PROTOCOLS.includes(protocol))
    throw new UsageError(`${source}: 'protocol' must be one of ${PROTOCOLS.join(', ')}; got '${String(protocol)}'`);
  const attacks = attackList(source, 'attacks', partial.attacks ?? ['moco-pgd', 'moco-fgsm']);
  const perMethod = partial.methodAttacks ?? {};
  if (typeof perMethod !== 'object' || perMethod === null || Array.isArray(perMethod))
    throw new UsageError(
      `${source}: 'methodAttacks' must map methods to attack lists, e.g. { rocl: [moco-pgd] }; ` +
        `got ${JSON.stringify(perMethod)}`,
    );
  const methodAttacks = Object.fromEntries(
    Object.entries(perMethod).map(([m, v]) => [m, attackList(source, `methodAttacks.${m}`, v)]),
  );
  const autoattack = partial.autoattack;
  if (autoattack !== undefined && !(GRID_AUTOATTACK_VERSIONS as readonly unknown[]).includes(autoattack))
    throw new UsageError(
      `${source}: 'autoattack' must be one of ${GRID_AUTOATTACK_VERSIONS.join(', ')}; ` +
        `got ${JSON.stringify(autoattack)}`,
    );
  const base = resolveRunConfig(preset, protocol, 0);
  const architectures = list(
    source,
    'architectures',
    partial.architectures ?? (preset === 'full' ? ['resnet18', 'resnet50'] : [base.model.architecture]),
  );
  const seedsValue = partial.seeds ?? [0, 1, 2];
  const seeds = typeof seedsValue === 'string' ? parseSeeds(seedsValue) : seedsValue;
  if (!Array.isArray(seeds) || seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || (s as number) < 0))
    throw new UsageError(
      `${source}: 'seeds' must be a non-empty list of integers ≥ 0; got ${JSON.stringify(seedsValue)}`,
    );
  const spelled = (partial.settings ?? {}) as Record<string, unknown>;
  if (typeof spelled !== 'object' || spelled === null || Array.isArray(spelled))
    throw new UsageError(`${source}: 'settings' must be an object of run settings; got ${JSON.stringify(spelled)}`);
  const settings = upgradeSettings(spelled); // a spec (or a grid.json) written with an older CLI's setting names
  applyOverrides(base, settings, `${source} settings`); // validated once here, before any cell exists
  for (const architecture of architectures)
    applyOverrides(base, { model: { architecture } }, `${source} architectures`);
  return {
    name: typeof partial.name === 'string' ? partial.name : 'moco-robust grid',
    preset,
    protocol,
    methods: list(source, 'methods', partial.methods ?? TABLE_1_METHODS),
    attacks,
    ...(Object.keys(methodAttacks).length > 0 ? { methodAttacks } : {}),
    ...(autoattack === undefined ? {} : { autoattack: autoattack as GridSpec['autoattack'] }),
    architectures,
    seeds: [...new Set(seeds as number[])],
    settings,
    ...(typeof partial.reference === 'string' ? { reference: partial.reference } : {}),
  };
}

/**
 * The cells of a grid, seed by seed (so a partial grid already compares every method on its first seeds), then
 * architecture, method and attack (`methodAttacks[method]` when given, else `attacks`); `none` gets one cell per
 * architecture × seed. Each cell's config is the preset × protocol defaults ← the spec's settings (and
 * `autoattack`) ← its method, attack, architecture and seed ← the method's defaults that the settings leave unset
 * (MoCo-v1's temperature 0.1).
 */
export function expandGrid(spec: GridSpec): GridCell[] {
  const cells: GridCell[] = [];
  for (const seed of spec.seeds)
    for (const architecture of spec.architectures)
      for (const method of spec.methods)
        for (const attack of method === 'none' ? (['none'] as const) : (spec.methodAttacks?.[method] ?? spec.attacks)) {
          let config = applyOverrides(
            resolveRunConfig(spec.preset, spec.protocol, seed),
            spec.settings,
            'grid settings',
          );
          if (spec.autoattack)
            config = applyOverrides(config, { eval: { autoAttackVersion: spec.autoattack } }, 'autoattack');
          config = applyOverrides(
            config,
            { seed, model: { architecture }, pretrain: { method, attack: { kind: pretrainAttackKind(attack) } } },
            `grid cell ${method}/${attack}/${architecture}/${seed}`,
          );
          config = withDerivedDefaults(config, [spec.settings]);
          const hash = cellHash(config);
          const readable = method === 'none' ? [method] : [method, attack];
          const safe = [...readable, architecture].map((part) => part.replace(/[^A-Za-z0-9_-]+/g, '_'));
          cells.push({
            name: `${safe.join('.')}.s${seed}.${hash}`,
            hash,
            method,
            pretrainAttack: attack,
            architecture,
            seed,
            config,
          });
        }
  return cells;
}
