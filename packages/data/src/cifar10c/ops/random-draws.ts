import type { Rng } from '@moco-robust/core';

let uniformScratch = new Float64Array(0);

/**
 * Fills `out` with independent N(0, scale²) draws from `rng` (Marsaglia's polar method, both
 * values of each pair used); `scale` is the standard deviation, default 1. The uniforms are drawn
 * in bulk, two per attempt and never more attempts than pairs still missing, so `rng` ends where
 * drawing them one at a time would leave it.
 */
export function fillNormal(rng: Rng, out: Float64Array, scale = 1): Float64Array {
  let filled = 0;
  while (filled < out.length) {
    const attempts = (out.length - filled + 1) >> 1; // each attempt fills at most one pair
    if (uniformScratch.length < 2 * attempts) uniformScratch = new Float64Array(2 * attempts);
    const uniforms = rng.fillFloats(uniformScratch, 0, 2 * attempts);
    for (let k = 0; k < 2 * attempts; k += 2) {
      const u = 2 * uniforms[k] - 1;
      const v = 2 * uniforms[k + 1] - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const factor = scale * Math.sqrt((-2 * Math.log(s)) / s);
      out[filled] = u * factor;
      if (filled + 1 < out.length) out[filled + 1] = v * factor;
      filled += 2;
    }
  }
  return out;
}

const LOG_FACTORIAL_TABLE_SIZE = 256;
const logFactorialTable = new Float64Array(LOG_FACTORIAL_TABLE_SIZE);
for (let k = 2; k < LOG_FACTORIAL_TABLE_SIZE; k++) logFactorialTable[k] = logFactorialTable[k - 1] + Math.log(k);

/** `log(k!)`: a table below 256, Stirling's series above (error < 1e-15 relative there). */
export function logFactorial(k: number): number {
  if (k < LOG_FACTORIAL_TABLE_SIZE) return logFactorialTable[k];
  const n = k + 1;
  const inverse = 1 / n;
  const inverse2 = inverse * inverse;
  return (
    (n - 0.5) * Math.log(n) -
    n +
    0.9189385332046728 +
    inverse * (1 / 12 - inverse2 * (1 / 360 - inverse2 * (1 / 1260 - inverse2 / 1680)))
  );
}

/** Precomputed constants of a Poisson(λ) sampler (reuse it for repeated draws with one λ). */
export interface PoissonSampler {
  lambda: number;
  /** exp(−λ), for the multiplication method (λ < 10). */
  limit: number;
  logLambda: number;
  a: number;
  b: number;
  logInverseAlpha: number;
  vr: number;
}

/** The constants of {@link drawPoisson} for a rate `lambda` ≥ 0. */
export function poissonSampler(lambda: number): PoissonSampler {
  const b = 0.931 + 2.53 * Math.sqrt(lambda);
  return {
    lambda,
    limit: Math.exp(-lambda),
    logLambda: Math.log(lambda),
    a: -0.059 + 0.02483 * b,
    b,
    logInverseAlpha: Math.log(1.1239 + 1.1328 / (b - 3.4)),
    vr: 0.9277 - 3.6224 / (b - 2),
  };
}

/**
 * One Poisson(λ) draw from `rng`, exact in distribution for every λ ≥ 0: multiplication of
 * uniforms for λ < 10, Hörmann's transformed rejection with squeeze (PTRS, 1993) above.
 */
export function drawPoisson(rng: Rng, sampler: PoissonSampler): number {
  const { lambda } = sampler;
  if (lambda < 10) {
    if (lambda <= 0) return 0;
    let k = 0;
    let product = rng.float();
    while (product > sampler.limit) {
      k++;
      product *= rng.float();
    }
    return k;
  }
  const { a, b, vr, logLambda, logInverseAlpha } = sampler;
  for (;;) {
    const u = rng.float() - 0.5;
    const v = rng.float();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + logInverseAlpha - Math.log(a / (us * us) + b) <= -lambda + k * logLambda - logFactorial(k))
      return k;
  }
}

/** One Poisson(λ) draw from `rng` (see {@link drawPoisson}); λ ≥ 0. */
export function poisson(rng: Rng, lambda: number): number {
  return drawPoisson(rng, poissonSampler(lambda));
}
