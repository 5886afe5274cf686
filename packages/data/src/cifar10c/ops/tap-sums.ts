/**
 * The weighted sums `Σ weights[t]·values[base + deltas[t] + c]` of the three interleaved channels
 * c = 0, 1, 2 of one pixel, each over the taps in order (float64), written to `out[at..at+2]`:
 * one pass over the taps for all three channels.
 */
export function tapSums3(
  values: Float64Array,
  base: number,
  weights: Float64Array,
  deltas: Int32Array,
  taps: number,
  out: Float64Array,
  at: number,
): void {
  let red = 0,
    green = 0,
    blue = 0;
  for (let t = 0; t < taps; t++) {
    const weight = weights[t];
    const i = base + deltas[t];
    red += weight * values[i];
    green += weight * values[i + 1];
    blue += weight * values[i + 2];
  }
  out[at] = red;
  out[at + 1] = green;
  out[at + 2] = blue;
}
