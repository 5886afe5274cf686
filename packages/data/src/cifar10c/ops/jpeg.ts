import { InvalidArgumentError } from '@moco-robust/core';

// A baseline JPEG encode + decode round trip with libjpeg-turbo 2.1's exact pixel arithmetic at its
// defaults (as Pillow and OpenCV call it): fixed-point RGB→YCbCr, 4:2:0 with the alternating-bias
// 2×2 average, "islow" integer DCTs, IJG tables scaled by quality, fancy (triangular) h2v2
// upsampling and fixed-point YCbCr→RGB. Entropy coding is lossless and therefore skipped.

const LUMINANCE_TABLE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51,
  87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMINANCE_TABLE = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99,
];

const tableCache = new Map<number, { luminance: Int32Array; chrominance: Int32Array }>();

/**
 * The IJG quantisation tables (natural order) scaled by `quality` 1–100 as `jpeg_set_quality(q, baseline)` (cached;
 * do
 * not modify).
 */
export function jpegQuantTables(quality: number): { luminance: Int32Array; chrominance: Int32Array } {
  if (!(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
    throw new InvalidArgumentError({
      argument: 'quality',
      expected: 'an integer JPEG quality 1–100',
      received: quality,
    });
  }
  const cached = tableCache.get(quality);
  if (cached) return cached;
  const scale = quality < 50 ? Math.trunc(5000 / quality) : 200 - quality * 2;
  const scaleTable = (base: number[]) =>
    Int32Array.from(base, (b) => Math.min(255, Math.max(1, Math.trunc((b * scale + 50) / 100))));
  const tables = { luminance: scaleTable(LUMINANCE_TABLE), chrominance: scaleTable(CHROMINANCE_TABLE) };
  tableCache.set(quality, tables);
  return tables;
}

const FIX_0_298631336 = 2446,
  FIX_0_390180644 = 3196,
  FIX_0_541196100 = 4433,
  FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373,
  FIX_1_175875602 = 9633,
  FIX_1_501321110 = 12299,
  FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069,
  FIX_2_053119869 = 16819,
  FIX_2_562915447 = 20995,
  FIX_3_072711026 = 25172;
const CONST_BITS = 13;
const PASS1_BITS = 2;

/** libjpeg `jpeg_fdct_islow` in place on 64 level-shifted samples (output scaled up by 8). */
function forwardDct(block: Int32Array): void {
  for (let pass = 0; pass < 2; pass++) {
    const stride = pass === 0 ? 8 : 1; // pass 0: rows (elements 1 apart), pass 1: columns (8 apart)
    const step = pass === 0 ? 1 : 8;
    const oddShift = pass === 0 ? CONST_BITS - PASS1_BITS : CONST_BITS + PASS1_BITS;
    const oddRound = 1 << (oddShift - 1);
    for (let line = 0; line < 8; line++) {
      const p = line * stride;
      const d0 = block[p],
        d1 = block[p + step],
        d2 = block[p + 2 * step],
        d3 = block[p + 3 * step];
      const d4 = block[p + 4 * step],
        d5 = block[p + 5 * step],
        d6 = block[p + 6 * step],
        d7 = block[p + 7 * step];
      const tmp0 = d0 + d7,
        tmp7 = d0 - d7,
        tmp1 = d1 + d6,
        tmp6 = d1 - d6;
      const tmp2 = d2 + d5,
        tmp5 = d2 - d5,
        tmp3 = d3 + d4,
        tmp4 = d3 - d4;
      const tmp10 = tmp0 + tmp3,
        tmp13 = tmp0 - tmp3,
        tmp11 = tmp1 + tmp2,
        tmp12 = tmp1 - tmp2;
      if (pass === 0) {
        block[p] = (tmp10 + tmp11) << PASS1_BITS;
        block[p + 4 * step] = (tmp10 - tmp11) << PASS1_BITS;
      } else {
        block[p] = (tmp10 + tmp11 + (1 << (PASS1_BITS - 1))) >> PASS1_BITS;
        block[p + 4 * step] = (tmp10 - tmp11 + (1 << (PASS1_BITS - 1))) >> PASS1_BITS;
      }
      const z1 = (tmp12 + tmp13) * FIX_0_541196100;
      block[p + 2 * step] = (z1 + tmp13 * FIX_0_765366865 + oddRound) >> oddShift;
      block[p + 6 * step] = (z1 - tmp12 * FIX_1_847759065 + oddRound) >> oddShift;
      const y1 = tmp4 + tmp7,
        y2 = tmp5 + tmp6,
        y3 = tmp4 + tmp6,
        y4 = tmp5 + tmp7;
      const z5 = (y3 + y4) * FIX_1_175875602;
      const a1 = -y1 * FIX_0_899976223,
        a2 = -y2 * FIX_2_562915447;
      const a3 = -y3 * FIX_1_961570560 + z5,
        a4 = -y4 * FIX_0_390180644 + z5;
      block[p + 7 * step] = (tmp4 * FIX_0_298631336 + a1 + a3 + oddRound) >> oddShift;
      block[p + 5 * step] = (tmp5 * FIX_2_053119869 + a2 + a4 + oddRound) >> oddShift;
      block[p + 3 * step] = (tmp6 * FIX_3_072711026 + a2 + a3 + oddRound) >> oddShift;
      block[p + step] = (tmp7 * FIX_1_501321110 + a1 + a4 + oddRound) >> oddShift;
    }
  }
}

/** Quantise (rounded division by 8·q, as libjpeg) and dequantise the DCT coefficients in place. */
function quantise(block: Int32Array, table: Int32Array): void {
  for (let i = 0; i < 64; i++) {
    const divisor = table[i] << 3;
    const v = block[i];
    const q = v < 0 ? -Math.trunc((-v + (divisor >> 1)) / divisor) : Math.trunc((v + (divisor >> 1)) / divisor);
    block[i] = q * table[i];
  }
}

const clampSample = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** libjpeg `jpeg_idct_islow` of dequantised coefficients into 8×8 samples at `out[offset]` (row stride `stride`). */
function inverseDct(block: Int32Array, work: Int32Array, out: Uint8Array, offset: number, stride: number): void {
  for (let pass = 0; pass < 2; pass++) {
    const source = pass === 0 ? block : work;
    const across = pass === 0 ? 8 : 1; // pass 0 reads columns (elements 8 apart)
    const lineStep = pass === 0 ? 1 : 8;
    const shift = pass === 0 ? CONST_BITS - PASS1_BITS : CONST_BITS + PASS1_BITS + 3;
    const round = 1 << (shift - 1);
    for (let line = 0; line < 8; line++) {
      const p = line * lineStep;
      const c0 = source[p],
        c1 = source[p + across],
        c2 = source[p + 2 * across],
        c3 = source[p + 3 * across];
      const c4 = source[p + 4 * across],
        c5 = source[p + 5 * across],
        c6 = source[p + 6 * across],
        c7 = source[p + 7 * across];
      const z1 = (c2 + c6) * FIX_0_541196100;
      const tmp2 = z1 - c6 * FIX_1_847759065;
      const tmp3 = z1 + c2 * FIX_0_765366865;
      const tmp0 = (c0 + c4) * 8192; // << CONST_BITS
      const tmp1 = (c0 - c4) * 8192;
      const tmp10 = tmp0 + tmp3,
        tmp13 = tmp0 - tmp3,
        tmp11 = tmp1 + tmp2,
        tmp12 = tmp1 - tmp2;
      const y1 = c7 + c1,
        y2 = c5 + c3,
        y3 = c7 + c3,
        y4 = c5 + c1;
      const z5 = (y3 + y4) * FIX_1_175875602;
      const a1 = -y1 * FIX_0_899976223,
        a2 = -y2 * FIX_2_562915447;
      const a3 = -y3 * FIX_1_961570560 + z5,
        a4 = -y4 * FIX_0_390180644 + z5;
      const o0 = c7 * FIX_0_298631336 + a1 + a3;
      const o1 = c5 * FIX_2_053119869 + a2 + a4;
      const o2 = c3 * FIX_3_072711026 + a2 + a3;
      const o3 = c1 * FIX_1_501321110 + a1 + a4;
      const v0 = tmp10 + o3,
        v1 = tmp11 + o2,
        v2 = tmp12 + o1,
        v3 = tmp13 + o0;
      const v4 = tmp13 - o0,
        v5 = tmp12 - o1,
        v6 = tmp11 - o2,
        v7 = tmp10 - o3;
      if (pass === 0) {
        work[p] = (v0 + round) >> shift;
        work[p + 8] = (v1 + round) >> shift;
        work[p + 16] = (v2 + round) >> shift;
        work[p + 24] = (v3 + round) >> shift;
        work[p + 32] = (v4 + round) >> shift;
        work[p + 40] = (v5 + round) >> shift;
        work[p + 48] = (v6 + round) >> shift;
        work[p + 56] = (v7 + round) >> shift;
      } else {
        const row = offset + line * stride;
        out[row] = clampSample(((v0 + round) >> shift) + 128);
        out[row + 1] = clampSample(((v1 + round) >> shift) + 128);
        out[row + 2] = clampSample(((v2 + round) >> shift) + 128);
        out[row + 3] = clampSample(((v3 + round) >> shift) + 128);
        out[row + 4] = clampSample(((v4 + round) >> shift) + 128);
        out[row + 5] = clampSample(((v5 + round) >> shift) + 128);
        out[row + 6] = clampSample(((v6 + round) >> shift) + 128);
        out[row + 7] = clampSample(((v7 + round) >> shift) + 128);
      }
    }
  }
}

// Colour conversion tables (libjpeg jccolor.c / jdcolor.c, 16-bit fixed point)
const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const fix = (x: number) => Math.trunc(x * (1 << SCALEBITS) + 0.5);
const rY = new Int32Array(256),
  gY = new Int32Array(256),
  bY = new Int32Array(256);
const rCb = new Int32Array(256),
  gCb = new Int32Array(256),
  bCb = new Int32Array(256);
const gCr = new Int32Array(256),
  bCr = new Int32Array(256);
const crR = new Int32Array(256),
  cbB = new Int32Array(256),
  crG = new Int32Array(256),
  cbG = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  rY[i] = fix(0.299) * i;
  gY[i] = fix(0.587) * i;
  bY[i] = fix(0.114) * i + ONE_HALF;
  rCb[i] = -fix(0.16874) * i;
  gCb[i] = -fix(0.33126) * i;
  bCb[i] = fix(0.5) * i + (128 << SCALEBITS) + ONE_HALF - 1; // also R→Cr
  gCr[i] = -fix(0.41869) * i;
  bCr[i] = -fix(0.08131) * i;
  const x = i - 128;
  crR[i] = (fix(1.402) * x + ONE_HALF) >> SCALEBITS;
  cbB[i] = (fix(1.772) * x + ONE_HALF) >> SCALEBITS;
  crG[i] = -fix(0.71414) * x;
  cbG[i] = -fix(0.34414) * x + ONE_HALF;
}

interface JpegScratch {
  planes: Uint8Array[]; // Y full size, Cb and Cr full size before downsampling
  chroma: Uint8Array[]; // Cb, Cr at half size
  block: Int32Array;
  work: Int32Array;
}
const scratchCache = new Map<string, JpegScratch>();

function scratchFor(height: number, width: number): JpegScratch {
  const key = `${height}x${width}`;
  let scratch = scratchCache.get(key);
  if (!scratch) {
    const full = height * width;
    const half = (height / 2) * (width / 2);
    scratch = {
      planes: [new Uint8Array(full), new Uint8Array(full), new Uint8Array(full)],
      chroma: [new Uint8Array(half), new Uint8Array(half)],
      block: new Int32Array(64),
      work: new Int32Array(64),
    };
    scratchCache.set(key, scratch);
  }
  return scratch;
}

/** Encode + decode every 8×8 block of one component plane in place (islow DCT, quantise, islow IDCT). */
function roundTripPlane(
  plane: Uint8Array,
  height: number,
  width: number,
  table: Int32Array,
  scratch: JpegScratch,
): void {
  const { block, work } = scratch;
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      const offset = by * width + bx;
      for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) block[r * 8 + c] = plane[offset + r * width + c] - 128;
      forwardDct(block);
      quantise(block, table);
      inverseDct(block, work, plane, offset, width);
    }
  }
}

/** libjpeg `h2v2_fancy_upsample` of a half-size plane into a full-size one (edge rows and columns repeated). */
function fancyUpsample(input: Uint8Array, inHeight: number, inWidth: number, output: Uint8Array): void {
  const outWidth = inWidth * 2;
  for (let row = 0; row < inHeight; row++) {
    for (let v = 0; v < 2; v++) {
      const near = row * inWidth;
      const otherRow = v === 0 ? (row > 0 ? row - 1 : 0) : row < inHeight - 1 ? row + 1 : row;
      const far = otherRow * inWidth;
      const out = (row * 2 + v) * outWidth;
      let thisSum = input[near] * 3 + input[far];
      let nextSum = input[near + 1] * 3 + input[far + 1];
      output[out] = (thisSum * 4 + 8) >> 4;
      output[out + 1] = (thisSum * 3 + nextSum + 7) >> 4;
      let lastSum = thisSum;
      thisSum = nextSum;
      for (let col = 1; col < inWidth - 1; col++) {
        nextSum = input[near + col + 1] * 3 + input[far + col + 1];
        output[out + col * 2] = (thisSum * 3 + lastSum + 8) >> 4;
        output[out + col * 2 + 1] = (thisSum * 3 + nextSum + 7) >> 4;
        lastSum = thisSum;
        thisSum = nextSum;
      }
      output[out + outWidth - 2] = (thisSum * 3 + lastSum + 8) >> 4;
      output[out + outWidth - 1] = (thisSum * 4 + 7) >> 4;
    }
  }
}

/**
 * JPEG-compresses and decompresses a uint8 HWC RGB image exactly as libjpeg-turbo 2.1 does with
 * Pillow's defaults (baseline, 4:2:0, islow DCTs, fancy upsampling) at `quality` 1–100; the
 * height and width must be multiples of 16 (whole MCUs). Returns a new uint8 HWC RGB image.
 */
export function jpegRoundTrip(image: Uint8Array, height: number, width: number, quality: number): Uint8Array {
  if (height % 16 !== 0 || width % 16 !== 0 || height <= 0 || width <= 0 || image.length !== height * width * 3) {
    throw new InvalidArgumentError({
      argument: 'image',
      expected: 'a uint8 HWC RGB image whose height and width are positive multiples of 16',
      received: `${image.length} values for ${height}×${width}×3`,
    });
  }
  const { luminance, chrominance } = jpegQuantTables(quality);
  const scratch = scratchFor(height, width);
  const [yPlane, cbFull, crFull] = scratch.planes;
  const [cbHalf, crHalf] = scratch.chroma;
  const pixels = height * width;
  for (let p = 0, i = 0; p < pixels; p++, i += 3) {
    const r = image[i],
      g = image[i + 1],
      b = image[i + 2];
    yPlane[p] = (rY[r] + gY[g] + bY[b]) >> SCALEBITS;
    cbFull[p] = (rCb[r] + gCb[g] + bCb[b]) >> SCALEBITS;
    crFull[p] = (bCb[r] + gCr[g] + bCr[b]) >> SCALEBITS;
  }
  const halfWidth = width / 2;
  const halfHeight = height / 2;
  for (let row = 0; row < halfHeight; row++) {
    const top = row * 2 * width;
    const bottom = top + width;
    let bias = 1; // libjpeg's h2v2_downsample alternates the rounding bias 1, 2 along each row
    for (let col = 0; col < halfWidth; col++) {
      const x = col * 2;
      cbHalf[row * halfWidth + col] =
        (cbFull[top + x] + cbFull[top + x + 1] + cbFull[bottom + x] + cbFull[bottom + x + 1] + bias) >> 2;
      crHalf[row * halfWidth + col] =
        (crFull[top + x] + crFull[top + x + 1] + crFull[bottom + x] + crFull[bottom + x + 1] + bias) >> 2;
      bias ^= 3;
    }
  }
  roundTripPlane(yPlane, height, width, luminance, scratch);
  roundTripPlane(cbHalf, halfHeight, halfWidth, chrominance, scratch);
  roundTripPlane(crHalf, halfHeight, halfWidth, chrominance, scratch);
  fancyUpsample(cbHalf, halfHeight, halfWidth, cbFull);
  fancyUpsample(crHalf, halfHeight, halfWidth, crFull);
  const out = new Uint8Array(image.length);
  for (let p = 0, i = 0; p < pixels; p++, i += 3) {
    const y = yPlane[p],
      cb = cbFull[p],
      cr = crFull[p];
    out[i] = clampSample(y + crR[cr]);
    out[i + 1] = clampSample(y + ((cbG[cb] + crG[cr]) >> SCALEBITS));
    out[i + 2] = clampSample(y + cbB[cb]);
  }
  return out;
}
