import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile, DataFormatError, emit } from '@moco-robust/core';
import type { EventListener } from '@moco-robust/core';
import { downloadFile } from '../download/download-file';
import type { DownloadEvent } from '../download/download-file';
import type { FrostTexture } from './corruption';
import { decodeJpeg } from './decode-jpeg';
import { decodePng } from './decode-png';
import type { DecodedImage } from './decode-png';
import { FROST_TEXTURE_COUNT, loadFrostTextures } from './frost-textures';

/**
 * Where the original generator's frost images are: the hendrycks/robustness repository
 * (Apache-2.0) at the commit the reference outputs were made from.
 */
export const FROST_TEXTURES_BASE_URL =
  'https://raw.githubusercontent.com/hendrycks/robustness/' +
  '8190fe329f5f072a06e3a2aea02bb5dda69aed9f/ImageNet-C/create_c/';

/** The source images of frost1–5 (frost6.jpg is never drawn) and the SHA-256 of the upstream files. */
export const FROST_TEXTURE_SOURCES: ReadonlyArray<{ file: string; sha256: string }> = [
  { file: 'frost1.png', sha256: 'ff9f907860bd7a835d459e32f9d588062b7f61ee267343cc7222b56753a14755' },
  { file: 'frost2.png', sha256: 'fe211a89b336999c207a852ce05818d4545d0b57c5beadd824b4cc9d9a9b6137' },
  { file: 'frost3.png', sha256: '2d0d50b4a9bb213f38b024ef7768731bb83cc08d2f26b5766bbc167cdfa0e504' },
  { file: 'frost4.jpg', sha256: '3f8b91ca1a9fa7167b09e773da53f5ae60d0a1fd88f02a783f6e328a72887f6e' },
  { file: 'frost5.jpg', sha256: '5fc6a19df4a429ba68abdcc8f8a4278d4c9f81c9ccafd2c92ab0c8cf8992ebd2' },
];

/** Events of {@link fetchFrostTextures}: `downloadFile`'s per source file, then `frost-textures-ready`. */
export type FetchFrostTexturesEvent = DownloadEvent | { type: 'frost-textures-ready'; dir: string; written: number };

/** Options of {@link fetchFrostTextures}. */
export interface FetchFrostTexturesOptions {
  /**
   * The textures folder to fill (`index.json`, `frost1.rgb`…`frost5.rgb`, the source images in `sources/`); a
   * complete
   * one is used as it is.
   */
  cacheDir: string;
  /** Folder URL holding `frost1.png`…`frost5.jpg`; default {@link FROST_TEXTURES_BASE_URL}. */
  baseUrl?: string;
  /**
   * Expected SHA-256 (hex) per source file name, for a mirror with other files; the upstream files' ({@link
   * FROST_TEXTURE_SOURCES}) otherwise.
   */
  checksums?: Readonly<Record<string, string>>;
  /** Receives the download events of each source file and `frost-textures-ready` at the end. */
  onEvent?: EventListener<FetchFrostTexturesEvent>;
}

/**
 * The generator's `cv2.resize(texture, fx=0.2, fy=0.2)`: OpenCV's bilinear source coordinate
 * `(d + 0.5)·5 − 0.5 = 5d + 2` is a whole number, so it is exactly a stride-5 subsample from pixel
 * 2 (SPEC B5), to `round(0.2·side)` pixels; colour is RGB (alpha dropped, grey repeated, as
 * `cv2.imread` in colour mode does).
 */
export function downscaleFrostTexture(image: DecodedImage, path: string): FrostTexture {
  const height = Math.round(image.height * 0.2);
  const width = Math.round(image.width * 0.2);
  if (height <= 32 || width <= 32) {
    throw new DataFormatError({
      path,
      message:
        `a ${image.height}×${image.width} image down-scales to ${height}×${width}; ` +
        `frost needs more than 32×32 (a source of at least 163×163)`,
    });
  }
  const { channels } = image;
  const pixels = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const source = ((5 * y + 2) * image.width + 5 * x + 2) * channels;
      const target = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) pixels[target + c] = image.pixels[source + (channels >= 3 ? c : 0)];
    }
  }
  return { height, width, pixels };
}

/** The textures in `dir` when they are all there and valid, else undefined. */
async function cachedTextures(dir: string): Promise<FrostTexture[] | undefined> {
  try {
    return await loadFrostTextures(dir);
  } catch {
    return undefined;
  }
}

/**
 * Downloads the original generator's frost images frost1–5 (by default from the upstream
 * repository, {@link FROST_TEXTURES_BASE_URL}) with `downloadFile` (SHA-256 checked, resumable; kept
 * in `cacheDir/sources/`), decodes them (PNG; JPEG as libjpeg-turbo does), applies the generator's
 * 0.2× down-scaling and writes the folder `loadFrostTextures(cacheDir)` reads (`index.json` last,
 * every file atomically). A folder that already holds the five textures is used as it is. Download
 * failures and wrong checksums throw `DownloadError`; an unreadable image `DataFormatError`.
 * Returns the textures.
 */
export async function fetchFrostTextures(options: FetchFrostTexturesOptions): Promise<FrostTexture[]> {
  const { cacheDir, onEvent } = options;
  const cached = await cachedTextures(cacheDir);
  if (cached !== undefined) {
    emit(onEvent, { type: 'frost-textures-ready', dir: cacheDir, written: 0 });
    return cached;
  }
  const baseUrl = (options.baseUrl ?? FROST_TEXTURES_BASE_URL).replace(/\/?$/, '/');
  const checksums: Record<string, string> = {
    ...Object.fromEntries(FROST_TEXTURE_SOURCES.map((s) => [s.file, s.sha256])),
    ...options.checksums,
  };
  const index: Record<string, unknown> = {};
  for (const [position, { file }] of FROST_TEXTURE_SOURCES.entries()) {
    const url = new URL(file, baseUrl).href;
    const path = await downloadFile({ url, path: join(cacheDir, 'sources', file), sha256: checksums[file], onEvent });
    const bytes = new Uint8Array(await readFile(path));
    const image = file.endsWith('.png') ? decodePng(bytes, path) : await decodeJpeg(bytes, path);
    const texture = downscaleFrostTexture(image, path);
    const name = `frost${position + 1}.rgb`;
    await atomicWriteFile(join(cacheDir, name), texture.pixels);
    index[name] = {
      frost_index: position,
      source_file: file,
      source_sha256: checksums[file],
      source_size_hw: [image.height, image.width],
      height: texture.height,
      width: texture.width,
      layout: 'uint8, row-major HWC, RGB interleaved',
    };
  }
  await atomicWriteFile(join(cacheDir, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
  emit(onEvent, { type: 'frost-textures-ready', dir: cacheDir, written: FROST_TEXTURE_COUNT });
  return loadFrostTextures(cacheDir);
}
