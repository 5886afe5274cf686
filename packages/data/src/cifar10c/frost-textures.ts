import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFormatError } from '@moco-robust/core';
import type { FrostTexture } from './corruption';
import { MissingFrostTexturesError } from './missing-frost-textures-error';

/** One entry of the textures folder's `index.json` (as in the reference's `frost_small/`). */
interface FrostIndexEntry {
  frost_index: number;
  height: number;
  width: number;
}

/** Number of frost textures the generator draws from (frost1–5; frost6 is never chosen). */
export const FROST_TEXTURE_COUNT = 5;

/**
 * Loads the five down-scaled frost textures from a folder holding `index.json` and
 * `frost1.rgb`…`frost5.rgb` (uint8 HWC RGB, the generator's 0.2× stride-5 subsample of the
 * original frost images), ordered by `frost_index`. A missing folder or file throws
 * {@link MissingFrostTexturesError}; a malformed one throws `DataFormatError` naming the file.
 */
export async function loadFrostTextures(dir: string): Promise<FrostTexture[]> {
  const indexPath = join(dir, 'index.json');
  let indexText: string;
  try {
    indexText = await readFile(indexPath, 'utf8');
  } catch (cause) {
    throw new MissingFrostTexturesError({
      path: indexPath,
      message: 'cannot read the frost texture index (expected index.json and frost1.rgb…frost5.rgb)',
      cause,
    });
  }
  let index: Record<string, FrostIndexEntry>;
  try {
    index = JSON.parse(indexText) as Record<string, FrostIndexEntry>;
  } catch (cause) {
    throw new DataFormatError({ path: indexPath, message: 'is not valid JSON', cause });
  }
  const textures: FrostTexture[] = new Array(FROST_TEXTURE_COUNT);
  for (const [fileName, entry] of Object.entries(index ?? {})) {
    const position = entry?.frost_index;
    if (!(Number.isInteger(position) && position >= 0 && position < FROST_TEXTURE_COUNT)) continue; // frost6 and extras
    const { height, width } = entry;
    if (!(Number.isInteger(height) && Number.isInteger(width) && height > 32 && width > 32)) {
      throw new DataFormatError({
        path: indexPath,
        message: `entry ${fileName}: expected integer height and width > 32, got ${height}×${width}`,
      });
    }
    const path = join(dir, fileName);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (cause) {
      throw new MissingFrostTexturesError({ path, message: 'cannot read this frost texture', cause });
    }
    if (bytes.length !== height * width * 3) {
      throw new DataFormatError({
        path,
        message: `expected ${height}×${width}×3 = ${height * width * 3} bytes (uint8 HWC RGB), got ${bytes.length}`,
        offset: Math.min(bytes.length, height * width * 3),
      });
    }
    textures[position] = { height, width, pixels: bytes };
  }
  for (let i = 0; i < FROST_TEXTURE_COUNT; i++) {
    if (textures[i] === undefined) {
      throw new MissingFrostTexturesError({
        path: indexPath,
        message: `no texture with frost_index ${i} (frost${i + 1}); the index must list frost1–frost5`,
      });
    }
  }
  return textures;
}
