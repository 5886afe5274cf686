/** OpenCV's fixed-point tan(22.5°) in 15-bit precision. */
const TG22 = 13573;
const CANNY_SHIFT = 15;

let magnitude = new Int32Array(0);
let gradientX = new Int32Array(0);
let gradientY = new Int32Array(0);
let state = new Uint8Array(0);
let stack = new Int32Array(0);

/**
 * OpenCV 4.6 `Canny(image, low, high)` of an 8-bit single-channel image with the 3×3 Sobel
 * (replicated border), the L1 magnitude |gx| + |gy|, fixed-point non-maximum suppression and
 * 8-connected hysteresis (candidates m > low, seeds m > high). Returns 255 on edges, 0 elsewhere.
 */
export function canny(
  image: Uint8Array,
  height: number,
  width: number,
  low: number,
  high: number,
  output = new Uint8Array(height * width),
): Uint8Array {
  const paddedWidth = width + 2;
  const paddedLength = (height + 2) * paddedWidth;
  if (magnitude.length < paddedLength) {
    magnitude = new Int32Array(paddedLength);
    gradientX = new Int32Array(paddedLength);
    gradientY = new Int32Array(paddedLength);
    state = new Uint8Array(paddedLength);
    stack = new Int32Array(paddedLength);
  }
  magnitude.fill(0, 0, paddedLength); // magnitudes outside the image are 0
  // the image with a replicated 1-pixel border (Sobel's BORDER_REPLICATE), in the state buffer (refilled below)
  const source = state;
  for (let y = -1; y <= height; y++) {
    const row = (y < 0 ? 0 : y >= height ? height - 1 : y) * width;
    const out = (y + 1) * paddedWidth;
    source[out] = image[row];
    for (let x = 0; x < width; x++) source[out + x + 1] = image[row + x];
    source[out + width + 1] = image[row + width - 1];
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y + 1) * paddedWidth + x + 1;
      const up = p - paddedWidth,
        down = p + paddedWidth;
      const dx =
        source[up + 1] + 2 * source[p + 1] + source[down + 1] - source[up - 1] - 2 * source[p - 1] - source[down - 1];
      const dy =
        source[down - 1] + 2 * source[down] + source[down + 1] - source[up - 1] - 2 * source[up] - source[up + 1];
      gradientX[p] = dx;
      gradientY[p] = dy;
      magnitude[p] = (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
    }
  }
  // 0 = candidate, 1 = not an edge, 2 = edge
  state.fill(1, 0, paddedLength);
  let top = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y + 1) * paddedWidth + x + 1;
      const m = magnitude[p];
      if (m <= low) continue;
      const xs = gradientX[p],
        ys = gradientY[p];
      const ax = Math.abs(xs);
      const ay = Math.abs(ys) * (1 << CANNY_SHIFT);
      const tg22x = ax * TG22;
      let keep: boolean;
      if (ay < tg22x) {
        keep = m > magnitude[p - 1] && m >= magnitude[p + 1];
      } else if (ay > tg22x + ax * (1 << (CANNY_SHIFT + 1))) {
        keep = m > magnitude[p - paddedWidth] && m >= magnitude[p + paddedWidth];
      } else {
        const s = (xs ^ ys) < 0 ? -1 : 1;
        keep = m > magnitude[p - paddedWidth - s] && m > magnitude[p + paddedWidth + s];
      }
      if (!keep) continue;
      if (m > high) {
        state[p] = 2;
        stack[top++] = p;
      } else {
        state[p] = 0;
      }
    }
  }
  const neighbours = [
    -paddedWidth - 1,
    -paddedWidth,
    -paddedWidth + 1,
    -1,
    1,
    paddedWidth - 1,
    paddedWidth,
    paddedWidth + 1,
  ];
  while (top > 0) {
    const p = stack[--top];
    for (let n = 0; n < 8; n++) {
      const q = p + neighbours[n];
      if (state[q] === 0) {
        state[q] = 2;
        stack[top++] = q;
      }
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) output[y * width + x] = state[(y + 1) * paddedWidth + x + 1] === 2 ? 255 : 0;
  }
  return output;
}
