/** Reflect-101 index (OpenCV's default border): −1 → 1, n → n − 2. */
function reflect101(p: number, length: number): number {
  return p < 0 ? -p : p >= length ? 2 * length - p - 2 : p;
}

let padded = new Float64Array(0);

/** Copies a single-channel image into `padded` with a 1-pixel reflect-101 border. */
function padReflect101(input: ArrayLike<number>, height: number, width: number): Float64Array {
  const stride = width + 2;
  if (padded.length < (height + 2) * stride) padded = new Float64Array((height + 2) * stride);
  for (let y = -1; y <= height; y++) {
    const row = reflect101(y, height) * width;
    const out = (y + 1) * stride;
    padded[out] = input[row + reflect101(-1, width)];
    for (let x = 0; x < width; x++) padded[out + x + 1] = input[row + x];
    padded[out + width + 1] = input[row + reflect101(width, width)];
  }
  return padded;
}

/** Sum of the 3×3 reflect-101 neighbourhood of every pixel of a single-channel image. */
function boxSums(input: ArrayLike<number>, height: number, width: number, sums: Float64Array): void {
  const source = padReflect101(input, height, width);
  const stride = width + 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y + 1) * stride + x + 1;
      sums[y * width + x] =
        source[p - stride - 1] +
        source[p - stride] +
        source[p - stride + 1] +
        (source[p - 1] + source[p] + source[p + 1]) +
        (source[p + stride - 1] + source[p + stride] + source[p + stride + 1]);
    }
  }
}

let sumScratch = new Float64Array(0);

/**
 * OpenCV 4.6 `blur(image, (3, 3))` of a float32 single-channel image (reflect-101 border): the
 * double-precision 3×3 sum times 1/9, stored as float32 (exact for the spatter distances, which
 * lie on a 2⁻¹⁶ grid).
 */
export function boxBlur3x3Float32(
  input: Float32Array,
  height: number,
  width: number,
  output = new Float32Array(height * width),
): Float32Array {
  if (sumScratch.length < height * width) sumScratch = new Float64Array(height * width);
  boxSums(input, height, width, sumScratch);
  for (let i = 0; i < height * width; i++) output[i] = sumScratch[i] * (1 / 9);
  return output;
}

/**
 * OpenCV 4.6 `blur(image, (3, 3))` of an 8-bit single-channel image: the 3×3 sum / 9 rounded to nearest, reflect-101
 * border.
 */
export function boxBlur3x3Uint8(
  input: Uint8Array,
  height: number,
  width: number,
  output = new Uint8Array(height * width),
): Uint8Array {
  if (sumScratch.length < height * width) sumScratch = new Float64Array(height * width);
  boxSums(input, height, width, sumScratch);
  // sums are integers: ties cannot occur
  for (let i = 0; i < height * width; i++) output[i] = Math.floor((sumScratch[i] + 4) / 9);
  return output;
}

/**
 * OpenCV 4.6 `filter2D(image, CV_8U, kernel)` with an integer 3×3 kernel (row-major): a correlation
 * (the kernel is not flipped) anchored at the centre, reflect-101 border, saturated to 0..255.
 */
export function filter2D3x3Uint8(
  input: Uint8Array,
  height: number,
  width: number,
  kernel: ArrayLike<number>,
  output = new Uint8Array(height * width),
): Uint8Array {
  const source = padReflect101(input, height, width);
  const stride = width + 2;
  const k0 = kernel[0],
    k1 = kernel[1],
    k2 = kernel[2],
    k3 = kernel[3],
    k4 = kernel[4],
    k5 = kernel[5],
    k6 = kernel[6],
    k7 = kernel[7],
    k8 = kernel[8];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y + 1) * stride + x + 1;
      const sum =
        k0 * source[p - stride - 1] +
        k1 * source[p - stride] +
        k2 * source[p - stride + 1] +
        k3 * source[p - 1] +
        k4 * source[p] +
        k5 * source[p + 1] +
        k6 * source[p + stride - 1] +
        k7 * source[p + stride] +
        k8 * source[p + stride + 1];
      output[y * width + x] = sum < 0 ? 0 : sum > 255 ? 255 : sum;
    }
  }
  return output;
}

/**
 * OpenCV 4.6 `equalizeHist` of an 8-bit image: the first non-empty bin maps to 0 and bin k to
 * `round(cumulative(i0+1..k) · float32(255 / (N − hist[i0])))` in float32, ties to even; an image
 * of one value stays that value.
 */
export function equalizeHist(input: Uint8Array, output = new Uint8Array(input.length)): Uint8Array {
  const histogram = new Int32Array(256);
  for (let i = 0; i < input.length; i++) histogram[input[i]]++;
  let first = 0;
  while (first < 255 && histogram[first] === 0) first++;
  if (histogram[first] === input.length) {
    output.fill(first);
    return output;
  }
  const scale = Math.fround(255 / (input.length - histogram[first]));
  const lut = new Uint8Array(256);
  let sum = 0;
  for (let k = first + 1; k < 256; k++) {
    sum += histogram[k];
    const v = Math.fround(sum * scale);
    const floor = Math.floor(v);
    const rounded = v - floor > 0.5 || (v - floor === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
    lut[k] = rounded > 255 ? 255 : rounded;
  }
  for (let i = 0; i < input.length; i++) output[i] = lut[input[i]];
  return output;
}
