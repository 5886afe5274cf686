import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PretrainingRecord } from '@moco-robust/eval';
import { PRETRAIN_ATTACK_NAMES } from '@moco-robust/moco';
import type { RunConfig } from '../presets';
import { upgradeRunConfig } from '../upgrade-run-config';

/** How a run's `pretrain` section reads in reports: its method, the attack by the paper's name, the attack steps. */
export function pretrainingRecord(pretrain: RunConfig['pretrain']): PretrainingRecord {
  return { method: pretrain.method, attack: PRETRAIN_ATTACK_NAMES[pretrain.attack.kind], steps: pretrain.attack.steps };
}

/**
 * How the model at `source` (a path `resolveModelSource` returned) was pre-trained: the `pretrain` section of the
 * `config.json` of the run or checkpoint that holds it (a pretrain run's own; a finetune run's records its encoder's
 * in turn). No source (random initialisation) gives method `none`; a model outside any run gives method `unknown`.
 * `fallback` supplies the remaining fields in those two cases.
 */
export function sourcePretraining(source: string | undefined, fallback: RunConfig['pretrain']): RunConfig['pretrain'] {
  const noAttack = { ...fallback.attack, kind: 'none' as const };
  if (source === undefined) return { ...fallback, method: 'none', attack: noAttack, epochs: 0 };
  let dir = existsSync(source) && statSync(source).isFile() ? dirname(source) : source;
  // model.json → model/ → run/; checkpoints/<step>/encoder → <step>/ (a checkpoint's config.json holds { run })
  for (let level = 0; level < 3; level++, dir = dirname(dir)) {
    const file = join(dir, 'config.json');
    if (!existsSync(file)) continue;
    const recorded = runConfigIn(file);
    if (recorded) return recorded.pretrain;
  }
  return { ...fallback, method: 'unknown', attack: noAttack };
}

function runConfigIn(file: string): RunConfig | undefined {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { run?: RunConfig } & Partial<RunConfig>;
    const config = json.run ?? json;
    return typeof config.pretrain?.method === 'string' && typeof config.preset === 'string'
      ? upgradeRunConfig(config as Record<string, unknown>) // a run of an older CLI too
      : undefined;
  } catch {
    return undefined;
  }
}
