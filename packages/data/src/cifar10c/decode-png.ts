import { inflateSync } from 'node:zlib';
import { DataFormatError } from '@moco-robust/core';

/** A decoded 8-bit image: `channels` interleaved values per pixel, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: number;
  pixels: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
/** Channels per PNG colour type (0 grey, 2 RGB, 4 grey + alpha, 6 RGBA; 3, palette, is not supported). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const pa = Math.abs(p - left),
    pb = Math.abs(p - up),
    pc = Math.abs(p - upLeft);
  return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
}

/**
 * Decodes a non-interlaced 8-bit PNG (grey, grey + alpha, RGB or RGBA — what the frost textures
 * use) with Node's zlib; anything else throws `DataFormatError` naming `path`.
 */
export function decodePng(bytes: Uint8Array, path: string): DecodedImage {
  const fail = (message: string, offset?: number) => new DataFormatError({ path, message, offset });
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw fail('not a PNG file (bad signature)', 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0,
    height = 0,
    channels = 0;
  const data: Uint8Array[] = [];
  for (let offset = 8; ; ) {
    if (offset + 12 > bytes.length) throw fail('truncated before the IEND chunk', offset);
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (body.length !== length) throw fail(`truncated ${type} chunk`, offset);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const [depth, colourType, , , interlace] = body.subarray(8, 13);
      channels = CHANNELS[colourType] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) {
        throw fail(
          `unsupported PNG (bit depth ${depth}, colour type ${colourType}, ` +
            `interlace ${interlace}): expected 8-bit grey/RGB(A), not interlaced`,
          offset + 16,
        );
      }
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  if (channels === 0) throw fail('no IHDR chunk');
  let filtered: Uint8Array;
  try {
    filtered = inflateSync(Buffer.concat(data));
  } catch (cause) {
    throw new DataFormatError({ path, message: 'corrupt image data (zlib)', cause });
  }
  const stride = width * channels;
  if (filtered.length !== height * (stride + 1))
    throw fail(`expected ${height} rows of ${stride + 1} bytes, got ${filtered.length} bytes of image data`);
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = filtered[y * (stride + 1)];
    const row = filtered.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[out + x - channels] : 0;
      const up = y > 0 ? pixels[out - stride + x] : 0;
      const upLeft = x >= channels && y > 0 ? pixels[out - stride + x - channels] : 0;
      let predictor: number;
      if (filter === 0) predictor = 0;
      else if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) predictor = paeth(left, up, upLeft);
      else throw fail(`row ${y}: unknown filter type ${filter}`);
      pixels[out + x] = (row[x] + predictor) & 255;
    }
  }
  return { width, height, channels, pixels };
}
