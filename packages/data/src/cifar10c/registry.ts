import { emit, InvalidArgumentError, Rng } from '@moco-robust/core';
import type { EventListener } from '@moco-robust/core';
import { ALL_CORRUPTIONS, SEVERITIES } from './corruption';
import type { Corruption, CorruptionName, FrostTexture, Severity } from './corruption';
import { brightness } from './corruptions/brightness';
import { contrast } from './corruptions/contrast';
import { defocusBlur } from './corruptions/defocus-blur';
import { elasticTransform } from './corruptions/elastic-transform';
import { fog } from './corruptions/fog';
import { frost } from './corruptions/frost';
import { gaussianBlur } from './corruptions/gaussian-blur';
import { gaussianNoise } from './corruptions/gaussian-noise';
import { glassBlur } from './corruptions/glass-blur';
import { impulseNoise } from './corruptions/impulse-noise';
import { jpegCompression } from './corruptions/jpeg-compression';
import { motionBlur } from './corruptions/motion-blur';
import { pixelate } from './corruptions/pixelate';
import { saturate } from './corruptions/saturate';
import { shotNoise } from './corruptions/shot-noise';
import { snow } from './corruptions/snow';
import { spatter } from './corruptions/spatter';
import { speckleNoise } from './corruptions/speckle-noise';
import { zoomBlur } from './corruptions/zoom-blur';
import { MissingFrostTexturesError } from './missing-frost-textures-error';
import { IMAGE_LENGTH } from './ops/image-buffers';

/** Every CIFAR-10-C corruption by its release name (an explicit registry: nothing registers itself on import). */
export const corruptions: Readonly<Record<CorruptionName, Corruption>> = {
  gaussian_noise: gaussianNoise,
  shot_noise: shotNoise,
  impulse_noise: impulseNoise,
  defocus_blur: defocusBlur,
  glass_blur: glassBlur,
  motion_blur: motionBlur,
  zoom_blur: zoomBlur,
  snow,
  frost,
  fog,
  brightness,
  contrast,
  elastic_transform: elasticTransform,
  pixelate,
  jpeg_compression: jpegCompression,
  speckle_noise: speckleNoise,
  gaussian_blur: gaussianBlur,
  spatter,
  saturate,
};

export { SEVERITIES };

/** Events of {@link corruptImages}. */
export type CorruptImagesEvent =
  | { type: 'corruption-end'; corruption: CorruptionName; severity: Severity; images: number; seconds: number }
  | { type: 'corruption-skipped'; corruption: CorruptionName; reason: string };

/** Options of {@link corruptImages}. */
export interface CorruptImagesOptions {
  /** Corruptions to generate, in this order; default all 19 in the release's order. */
  corruptions?: readonly CorruptionName[];
  /** Severities to generate per corruption; default 1–5. */
  severities?: readonly Severity[];
  /** Seed of every random draw; image i of corruption c at severity s always gets the same draws. */
  seed: number | string;
  /**
   * Global index of `images`' first image, so that a dataset split into batches or workers gives the same result;
   * default 0.
   */
  firstIndex?: number;
  /** The five frost textures (`loadFrostTextures`); without them frost is skipped (see `onMissingFrostTextures`). */
  frostTextures?: FrostTexture[];
  /**
   * `'skip'` (default) emits a `corruption-skipped` event and leaves frost out; `'error'` throws
   * `MissingFrostTexturesError`.
   */
  onMissingFrostTextures?: 'skip' | 'error';
  /**
   * Images per yielded block: each (corruption, severity) comes as consecutive blocks of at most this many images, so
   * memory stays at one block whatever the dataset's size (the writer puts each block in its place); default all
   * `count` (one block per corruption and severity). The bytes do not depend on it.
   */
  blockImages?: number;
  /** Receives `corruption-end` and `corruption-skipped` events. */
  onEvent?: EventListener<CorruptImagesEvent>;
}

/**
 * One generated block: corrupted images (uint8 n×32×32×3 HWC) of one corruption and severity, images `firstImage` to
 * `firstImage + n − 1` of the call's `images` (all of them, from 0, unless `blockImages` splits them).
 */
export interface CorruptedImages {
  corruption: CorruptionName;
  severity: Severity;
  images: Uint8Array;
  /** Index, in the call's `images`, of the block's first image (0 when the block holds them all). */
  firstImage: number;
}

/** The validated plan of a {@link corruptImages} call (shared with the worker-thread generator). */
export interface CorruptImagesPlan {
  names: readonly CorruptionName[];
  severities: readonly Severity[];
  firstIndex: number;
  /** Images per block (`blockImages`, default `count`; at least 1). */
  blockImages: number;
  /** Why frost cannot run (no or too few textures), when it is among `names`. */
  frostMissing: MissingFrostTexturesError | undefined;
}

/**
 * Checks the arguments of {@link corruptImages} (throws `InvalidArgumentError` naming the argument) and returns its
 * plan.
 */
export function planCorruptImages(images: Uint8Array, count: number, options: CorruptImagesOptions): CorruptImagesPlan {
  if (!(Number.isInteger(count) && count >= 0))
    throw new InvalidArgumentError({ argument: 'count', expected: 'a non-negative integer', received: count });
  if (!(images instanceof Uint8Array) || images.length !== count * IMAGE_LENGTH) {
    throw new InvalidArgumentError({
      argument: 'images',
      expected: `a Uint8Array of ${count}×32×32×3 = ${count * IMAGE_LENGTH} values (HWC RGB)`,
      received: images instanceof Uint8Array ? `${images.length} values` : images,
    });
  }
  const names = options.corruptions ?? ALL_CORRUPTIONS;
  for (const name of names) {
    if (!(ALL_CORRUPTIONS as readonly string[]).includes(name)) {
      throw new InvalidArgumentError({
        argument: 'corruptions',
        expected: `names among ${ALL_CORRUPTIONS.join(', ')}`,
        received: name,
      });
    }
  }
  const severities = options.severities ?? SEVERITIES;
  for (const severity of severities) {
    if (!SEVERITIES.includes(severity))
      throw new InvalidArgumentError({ argument: 'severities', expected: 'integers 1–5', received: severity });
  }
  const firstIndex = options.firstIndex ?? 0;
  if (!(Number.isInteger(firstIndex) && firstIndex >= 0))
    throw new InvalidArgumentError({
      argument: 'firstIndex',
      expected: 'a non-negative integer',
      received: firstIndex,
    });
  const blockImages = options.blockImages ?? Math.max(count, 1);
  if (!(Number.isInteger(blockImages) && blockImages >= 1))
    throw new InvalidArgumentError({ argument: 'blockImages', expected: 'an integer ≥ 1', received: blockImages });
  const frostMissing =
    names.includes('frost') && (options.frostTextures === undefined || options.frostTextures.length < 5)
      ? new MissingFrostTexturesError({
          message: 'frost needs the five frost textures (frostTextures option, see loadFrostTextures)',
        })
      : undefined;
  return { names, severities, firstIndex, blockImages, frostMissing };
}

/**
 * At frost's turn without textures: throws when `onMissingFrostTextures` is `'error'`, else emits
 * `corruption-skipped` (the caller then leaves frost out).
 */
export function skipMissingFrost(error: MissingFrostTexturesError, options: CorruptImagesOptions): void {
  if (options.onMissingFrostTextures === 'error') throw error;
  emit(options.onEvent, { type: 'corruption-skipped', corruption: 'frost', reason: error.message });
}

/**
 * Generates CIFAR-10-C corruptions of `count` uint8 HWC 32×32 RGB images, per (corruption, severity) in blocks of
 * `blockImages` images (default: one block of all), lazily: image i's draws come from `Rng.fromSeed(seed)` forked by
 * `corruption/severity` and then by its global index `firstIndex + i`, so the result does not depend on how a dataset
 * is split into calls or blocks. Frost needs `frostTextures` (skipped otherwise, with an event).
 */
export function* corruptImages(
  images: Uint8Array,
  count: number,
  options: CorruptImagesOptions,
): Generator<CorruptedImages> {
  const { names, severities, firstIndex, blockImages, frostMissing } = planCorruptImages(images, count, options);
  const root = Rng.fromSeed(options.seed);
  for (const name of names) {
    if (name === 'frost' && frostMissing !== undefined) {
      skipMissingFrost(frostMissing, options);
      continue;
    }
    const corruption = corruptions[name];
    for (const severity of severities) {
      let seconds = 0;
      const stream = root.fork(`${name}/${severity}`);
      // do … while: no images still give one (empty) block per corruption and severity
      let first = 0;
      do {
        const started = performance.now();
        const n = Math.min(blockImages, count - first);
        const out = new Uint8Array(n * IMAGE_LENGTH);
        for (let j = 0; j < n; j++) {
          const i = first + j;
          const image = images.subarray(i * IMAGE_LENGTH, (i + 1) * IMAGE_LENGTH);
          const rng = corruption.random ? stream.fork(String(firstIndex + i)) : stream;
          out.set(corruption.apply(image, severity, { rng, frostTextures: options.frostTextures }), j * IMAGE_LENGTH);
        }
        seconds += (performance.now() - started) / 1000;
        if (first + n >= count)
          emit(options.onEvent, { type: 'corruption-end', corruption: name, severity, images: count, seconds });
        yield { corruption: name, severity, images: out, firstImage: first };
        first += n;
      } while (first < count);
    }
  }
}
