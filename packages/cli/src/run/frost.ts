import { loadFrostTextures, type FrostTexture } from '@moco-robust/data';

/**
 * The frost textures from `--frost` or `$MOCO_ROBUST_FROST`; undefined when neither is given (frost is then skipped and
 * noted).
 */
export async function loadFrostFlag(flag: string | undefined): Promise<FrostTexture[] | undefined> {
  const dir = flag ?? process.env.MOCO_ROBUST_FROST;
  return dir ? loadFrostTextures(dir) : undefined;
}
