import { crc32, deflateSync } from 'node:zlib';
import { InvalidArgumentError } from '@moco-robust/core';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes uint8 HWC RGB pixels as a PNG file (8-bit truecolour, no filtering, zlib-deflated). */
export function encodePng(rgb: Uint8Array, height: number, width: number): Buffer {
  if (rgb.length !== height * width * 3)
    throw new InvalidArgumentError({
      argument: 'rgb',
      expected: `${height}×${width}×3 = ${height * width * 3} bytes`,
      received: `${rgb.length} bytes`,
    });
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, no filter method, no interlace
  const rows = new Uint8Array(height * (1 + width * 3));
  // filter byte 0 per row
  for (let y = 0; y < height; y++) rows.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A `data:image/png;base64,…` URL of uint8 HWC RGB pixels. */
export function pngDataUrl(rgb: Uint8Array, height: number, width: number): string {
  return `data:image/png;base64,${encodePng(rgb, height, width).toString('base64')}`;
}
