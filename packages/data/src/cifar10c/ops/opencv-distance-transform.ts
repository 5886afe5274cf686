const SHIFT = 16;
/** OpenCV's 5×5 L2 chamfer weights (float 1, 1.4, 2.1969) in 16.16 fixed point. */
const HV = Math.round(Math.fround(1) * (1 << SHIFT));
const DIAGONAL = Math.round(Math.fround(1.4) * (1 << SHIFT));
const KNIGHT = Math.round(Math.fround(2.1969) * (1 << SHIFT));
const FAR = 0x7fffffff; // outside the image: infinitely far
const BORDER = 2;

let work = new Float64Array(0);

/**
 * OpenCV 4.6 `distanceTransform(image, DIST_L2, 5)` of an 8-bit single-channel image: the two-pass
 * 5×5 chamfer distance (weights 1, 1.4, 2.1969 in 16.16 fixed point) from every non-zero pixel to
 * the nearest zero pixel, as float32 pixels.
 */
export function distanceTransform5x5(
  image: Uint8Array,
  height: number,
  width: number,
  output = new Float32Array(height * width),
): Float32Array {
  const stride = width + 2 * BORDER;
  const length = (height + 2 * BORDER) * stride;
  if (work.length < length) work = new Float64Array(length);
  const t = work;
  t.fill(FAR, 0, length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y + BORDER) * stride + x + BORDER;
      if (image[y * width + x] === 0) {
        t[p] = 0;
        continue;
      }
      let d = t[p - 2 * stride - 1] + KNIGHT,
        e: number;
      if ((e = t[p - 2 * stride + 1] + KNIGHT) < d) d = e;
      if ((e = t[p - stride - 2] + KNIGHT) < d) d = e;
      if ((e = t[p - stride - 1] + DIAGONAL) < d) d = e;
      if ((e = t[p - stride] + HV) < d) d = e;
      if ((e = t[p - stride + 1] + DIAGONAL) < d) d = e;
      if ((e = t[p - stride + 2] + KNIGHT) < d) d = e;
      if ((e = t[p - 1] + HV) < d) d = e;
      t[p] = d;
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const p = (y + BORDER) * stride + x + BORDER;
      let d = t[p];
      if (d > HV) {
        let e: number;
        if ((e = t[p + 2 * stride + 1] + KNIGHT) < d) d = e;
        if ((e = t[p + 2 * stride - 1] + KNIGHT) < d) d = e;
        if ((e = t[p + stride + 2] + KNIGHT) < d) d = e;
        if ((e = t[p + stride + 1] + DIAGONAL) < d) d = e;
        if ((e = t[p + stride] + HV) < d) d = e;
        if ((e = t[p + stride - 1] + DIAGONAL) < d) d = e;
        if ((e = t[p + stride - 2] + KNIGHT) < d) d = e;
        if ((e = t[p + 1] + HV) < d) d = e;
        t[p] = d;
      }
      output[y * width + x] = Math.fround(d) / (1 << SHIFT);
    }
  }
  return output;
}
