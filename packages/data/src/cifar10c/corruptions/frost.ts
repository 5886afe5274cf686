import { InvalidArgumentError } from '@moco-robust/core';
import type { Corruption, FrostTexture } from '../corruption';
import { MissingFrostTexturesError } from '../missing-frost-textures-error';
import { assertCifarImage, IMAGE_LENGTH, severityValue } from '../ops/image-buffers';

/** Recorded draws of one `frost` image (as in `params/frost_s<N>.json`). */
export interface FrostDraws {
  /** Texture 0–4 (frost1–frost5). */
  frostIndex: number;
  /** Top row of the 32×32 crop in the down-scaled texture, in [0, height − 32). */
  rowStart: number;
  /** Left column of the crop, in [0, width − 32). */
  colStart: number;
}

/** Image weight and frost weight per severity 1–5. */
const WEIGHTS = [
  [1, 0.2],
  [1, 0.3],
  [0.9, 0.4],
  [0.85, 0.4],
  [0.75, 0.45],
] as const;

function checkedTexture(textures: FrostTexture[] | undefined, index: number): FrostTexture {
  if (textures === undefined || textures.length < 5) {
    throw new MissingFrostTexturesError({
      message:
        `frost needs the five frost textures (frost1–5) in context.frostTextures, got ` +
        `${textures === undefined ? 'none' : textures.length}; load them with loadFrostTextures(dir) or skip frost`,
    });
  }
  const texture = textures[index];
  if (
    texture === undefined ||
    !(texture.pixels instanceof Uint8Array) ||
    texture.pixels.length !== texture.height * texture.width * 3 ||
    texture.height <= 32 ||
    texture.width <= 32
  ) {
    throw new InvalidArgumentError({
      argument: `frostTextures[${index}]`,
      expected: 'a uint8 HWC RGB texture larger than 32×32 with height·width·3 pixels',
      received: texture,
    });
  }
  return texture;
}

/**
 * CIFAR-10-C `frost` (random): blends `a·x + b·crop` (a = 1–0.75, b = 0.2–0.45, in 0..255 units)
 * with a random 32×32 crop of one of five frost textures, truncated to uint8 (docs/cifar10c.md §2.9). Throws
 * {@link MissingFrostTexturesError} when `context.frostTextures` is absent.
 */
export const frost: Corruption<FrostDraws> = {
  name: 'frost',
  random: true,
  apply(image, severity, context) {
    assertCifarImage(image);
    const [imageWeight, frostWeight] = severityValue(WEIGHTS, severity);
    const draws = context.draws;
    const index = draws?.frostIndex ?? context.rng.int(5);
    const texture = checkedTexture(context.frostTextures, index);
    const rowStart = draws?.rowStart ?? context.rng.int(texture.height - 32); // NumPy randint: upper bound exclusive
    const colStart = draws?.colStart ?? context.rng.int(texture.width - 32);
    if (!(rowStart >= 0 && rowStart + 32 <= texture.height && colStart >= 0 && colStart + 32 <= texture.width)) {
      throw new InvalidArgumentError({
        argument: 'draws',
        expected: `a crop inside the ${texture.height}×${texture.width} texture`,
        received: `row ${rowStart}, column ${colStart}`,
      });
    }
    const out = new Uint8Array(IMAGE_LENGTH);
    const pixels = texture.pixels;
    for (let y = 0; y < 32; y++) {
      const source = ((rowStart + y) * texture.width + colStart) * 3;
      for (let x = 0; x < 96; x++) {
        const v = imageWeight * image[y * 96 + x] + frostWeight * pixels[source + x];
        out[y * 96 + x] = v > 0 ? (v >= 255 ? 255 : Math.floor(v)) : 0;
      }
    }
    return out;
  },
};
