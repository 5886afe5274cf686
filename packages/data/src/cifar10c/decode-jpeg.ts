import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { DataFormatError } from '@moco-robust/core';
import type { DecodedImage } from './decode-png';

type JpegDecode = (buffer: ArrayBuffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
let decoder: Promise<JpegDecode> | undefined;
const silent = () => {};

/**
 * `@jsquash/jpeg`'s decoder (MozJPEG, that is libjpeg-turbo's decoding, in WebAssembly), its module compiled from the
 * installed file.
 */
function jpegDecoder(): Promise<JpegDecode> {
  decoder ??= (async () => {
    const codec = await import('@jsquash/jpeg/decode.js');
    const wasmPath = createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm');
    const init = codec.init as unknown as (module: WebAssembly.Module, overrides: object) => Promise<void>;
    // libraries never print
    await init(await WebAssembly.compile(await readFile(wasmPath)), { print: silent, printErr: silent });
    return codec.default as unknown as JpegDecode;
  })();
  return decoder;
}

/**
 * Decodes a JPEG (baseline or progressive) to 8-bit RGB exactly as libjpeg-turbo does (the
 * original generator read its JPEG frost textures with OpenCV, which uses libjpeg-turbo);
 * a file it cannot decode throws `DataFormatError` naming `path`.
 */
export async function decodeJpeg(bytes: Uint8Array, path: string): Promise<DecodedImage> {
  const decode = await jpegDecoder();
  let rgba: Awaited<ReturnType<JpegDecode>>;
  try {
    rgba = await decode(bytes.slice().buffer);
  } catch (cause) {
    throw new DataFormatError({ path, message: 'not a JPEG file the decoder can read', cause });
  }
  const { width, height, data } = rgba;
  const pixels = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    pixels[p * 3] = data[p * 4];
    pixels[p * 3 + 1] = data[p * 4 + 1];
    pixels[p * 3 + 2] = data[p * 4 + 2];
  }
  return { width, height, channels: 3, pixels };
}
