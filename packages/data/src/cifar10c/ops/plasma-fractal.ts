/** Side of the generator's CIFAR plasma map (32). */
const SIZE = 32;
const MASK = SIZE - 1;

/**
 * The generator's CIFAR `plasma_fractal`: diamond–square on a 32×32 toroidal grid starting from
 * M[0][0] = 0, amplitude 100 divided by `decay` after each halving of the step, each new point the
 * mean of its four neighbours plus `w·U(−w, w)` (drawn row-major per grid: squares, top-edge
 * diamonds, left-edge diamonds; 1023 draws), finally rescaled to [0, 1] (SPEC B7).
 * @param uniform returns a uniform draw in [low, high).
 * @returns 32×32 row-major float64 map (into `out` when given).
 */
export function plasmaFractal(
  decay: number,
  uniform: (low: number, high: number) => number,
  out = new Float64Array(SIZE * SIZE),
): Float64Array {
  const m = out;
  m[0] = 0;
  let step = SIZE;
  let wibble = 100;
  while (step >= 2) {
    const half = step >> 1;
    const n = SIZE / step;
    // squares: centre = mean of the four corners (roll −1 along rows, then along columns)
    for (let i = 0; i < n; i++) {
      const r0 = i * step,
        r1 = (r0 + step) & MASK;
      for (let j = 0; j < n; j++) {
        const c0 = j * step,
          c1 = (c0 + step) & MASK;
        const sum = m[r0 * SIZE + c0] + m[r1 * SIZE + c0] + (m[r0 * SIZE + c1] + m[r1 * SIZE + c1]);
        m[(r0 + half) * SIZE + c0 + half] = sum / 4 + wibble * uniform(-wibble, wibble);
      }
    }
    // diamonds on the top edges: centres above and below, corners left and right
    for (let i = 0; i < n; i++) {
      const r = i * step,
        above = (r - half + SIZE) & MASK;
      for (let j = 0; j < n; j++) {
        const c = j * step;
        const sum =
          m[(r + half) * SIZE + c + half] +
          m[above * SIZE + c + half] +
          (m[r * SIZE + c] + m[r * SIZE + ((c + step) & MASK)]);
        m[r * SIZE + c + half] = sum / 4 + wibble * uniform(-wibble, wibble);
      }
    }
    // diamonds on the left edges: centres right and left, corners above and below
    for (let i = 0; i < n; i++) {
      const r = i * step;
      for (let j = 0; j < n; j++) {
        const c = j * step,
          left = (c - half + SIZE) & MASK;
        const sum =
          m[(r + half) * SIZE + c + half] +
          m[(r + half) * SIZE + left] +
          (m[r * SIZE + c] + m[((r + step) & MASK) * SIZE + c]);
        m[(r + half) * SIZE + c] = sum / 4 + wibble * uniform(-wibble, wibble);
      }
    }
    step = half;
    wibble /= decay;
  }
  let minimum = Infinity;
  for (let i = 0; i < m.length; i++) if (m[i] < minimum) minimum = m[i];
  let maximum = -Infinity;
  for (let i = 0; i < m.length; i++) {
    m[i] -= minimum;
    if (m[i] > maximum) maximum = m[i];
  }
  for (let i = 0; i < m.length; i++) m[i] /= maximum;
  return m;
}
