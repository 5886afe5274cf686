import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunConfig } from '../presets';

/**
 * How the model at `source` (a path `resolveModelSource` returned) was pre-trained: the `pretrain` section of the
 * `config.json` of the run or checkpoint that holds it (a pretrain run's own; a finetune run's records its encoder's
 * in turn). No source (random initialisation) gives method `none`; a model outside any run gives method `unknown`.
 * `fallback` supplies the remaining fields in those two cases.
 */
export function sourcePretraining(source: string | undefined, fallback: RunConfig['pretrain']): RunConfig['pretrain'] {
  if (source === undefined) return { ...fallback, method: 'none', attack: 'none', epochs: 0 };
  let dir = existsSync(source) && statSync(source).isFile() ? dirname(source) : source;
  // model.json → model/ → run/; checkpoints/<step>/encoder → <step>/ (a checkpoint's config.json holds { run })
  for (let level = 0; level < 3; level++, dir = dirname(dir)) {
    const file = join(dir, 'config.json');
    if (!existsSync(file)) continue;
    const recorded = runConfigIn(file);
    if (recorded) return recorded.pretrain;
  }
  return { ...fallback, method: 'unknown', attack: 'none' };
}

function runConfigIn(file: string): RunConfig | undefined {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { run?: RunConfig } & Partial<RunConfig>;
    const config = json.run ?? json;
    return typeof config.pretrain?.method === 'string' && typeof config.preset === 'string'
      ? (config as RunConfig)
      : undefined;
  } catch {
    return undefined;
  }
}
