import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir, loadFrostTextures, type FrostTexture } from '@moco-robust/data';

/** Where `moco-robust data download --frost` puts the verified frost textures: `<cache>/frost`. */
export function frostCacheDir(cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, 'frost');
}

/**
 * The frost textures from `--frost` or `$MOCO_ROBUST_FROST`, else from the cache when `data download --frost` put
 * them there; undefined when none of these has them (frost is then skipped and noted).
 */
export async function loadFrostFlag(flag: string | undefined): Promise<FrostTexture[] | undefined> {
  const dir = flag ?? process.env.MOCO_ROBUST_FROST;
  if (dir) return loadFrostTextures(dir);
  const cached = frostCacheDir();
  return existsSync(join(cached, 'index.json')) ? loadFrostTextures(cached) : undefined;
}
