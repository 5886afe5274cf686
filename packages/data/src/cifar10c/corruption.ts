import type { Rng } from '@moco-robust/core';

/** CIFAR-10-C severity level. */
export type Severity = 1 | 2 | 3 | 4 | 5;

/** The 15 benchmark corruptions of CIFAR-10-C (Hendrycks & Dietterich, ICLR 2019), in the release's order. */
export const BENCHMARK_CORRUPTIONS = [
  'gaussian_noise',
  'shot_noise',
  'impulse_noise',
  'defocus_blur',
  'glass_blur',
  'motion_blur',
  'zoom_blur',
  'snow',
  'frost',
  'fog',
  'brightness',
  'contrast',
  'elastic_transform',
  'pixelate',
  'jpeg_compression',
] as const;

/** The 4 extra corruptions of the release. */
export const EXTRA_CORRUPTIONS = ['speckle_noise', 'gaussian_blur', 'spatter', 'saturate'] as const;

/** The five severities in order. */
export const SEVERITIES: readonly Severity[] = [1, 2, 3, 4, 5];

/** All 19 corruption names, in the original generator's order. */
export const ALL_CORRUPTIONS = [...BENCHMARK_CORRUPTIONS, ...EXTRA_CORRUPTIONS] as const;

/** Name of a CIFAR-10-C corruption. */
export type CorruptionName = (typeof ALL_CORRUPTIONS)[number];

/** What a corruption receives besides the image. */
export interface CorruptionContext<Draws = unknown> {
  /** Source of the corruption's own random draws (ignored by deterministic corruptions). */
  rng: Rng;
  /**
   * Recorded random draws for this image (as the reference outputs record them: docs/cifar10c.md); when
   * given, the corruption uses them instead of drawing from `rng`, reproducing the original
   * generator's output exactly.
   */
  draws?: Draws;
  /** Frost textures (frost1–5, down-scaled, uint8 HWC RGB), needed by `frost` only. */
  frostTextures?: FrostTexture[];
}

/** One down-scaled frost texture. */
export interface FrostTexture {
  height: number;
  width: number;
  /** uint8 HWC RGB, length height·width·3. */
  pixels: Uint8Array;
}

/**
 * One CIFAR-10-C corruption applied to a single 32×32 RGB image (uint8 HWC, length 3072),
 * returning a new uint8 HWC image, matching the original generator (`make_cifar_c.py`).
 */
export interface Corruption<Draws = unknown> {
  name: CorruptionName;
  /** False when the output depends on the image and severity only. */
  random: boolean;
  apply(image: Uint8Array, severity: Severity, context: CorruptionContext<Draws>): Uint8Array;
}
