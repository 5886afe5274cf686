import { InvalidArgumentError } from '@moco-robust/core';

/** A mean over seeds with its two-sided 95 % Student-t interval (`halfWidth` undefined when n = 1). */
export interface SeedSummary {
  mean: number;
  /** Number of values (seeds). */
  n: number;
  /** Sample standard deviation (n − 1 in the denominator); undefined when n = 1. */
  standardDeviation?: number;
  /** Half-width of the two-sided 95 % t-interval, `t(0.975, n − 1) · s / √n`; undefined when n = 1. */
  halfWidth?: number;
  /** The values summarised, in the order given. */
  values: number[];
}

/** A paired difference `method − reference` over the seeds both have, summarised like {@link SeedSummary}. */
export interface PairedDifference extends SeedSummary {
  /** The seeds shared by both, ascending. */
  seeds: number[];
}

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; relative error below 1e-13). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the regularised incomplete beta function (modified Lentz), valid for x < (a+1)/(a+b+2). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 500; m++) {
    for (const even of [true, false]) {
      const numerator = even
        ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
        : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= c * d;
      if (!even && Math.abs(c * d - 1) < 1e-15) return h;
    }
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The `p` quantile of Student's t with `df` degrees of freedom (bisection on {@link studentTCdf} to 1e-12),
 * e.g. `studentTQuantile(0.975, 2)` = 4.3027.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new InvalidArgumentError({ argument: 'p', expected: 'in (0, 1)', received: p });
  if (!(df > 0)) throw new InvalidArgumentError({ argument: 'df', expected: 'a positive number', received: df });
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  while (high - low > 1e-12 * Math.max(1, high)) {
    const middle = (low + high) / 2;
    if (studentTCdf(middle, df) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/**
 * Mean of `values` (one per seed) with the two-sided 95 % Student-t interval `mean ± t(0.975, n−1)·s/√n`; with
 * one
 * value there is no interval (`halfWidth` undefined). Throws on an empty list or a non-finite value.
 */
export function summarizeSeeds(values: readonly number[]): SeedSummary {
  if (values.length === 0)
    throw new InvalidArgumentError({ argument: 'values', expected: 'at least one value', received: [] });
  for (const v of values)
    if (!Number.isFinite(v))
      throw new InvalidArgumentError({ argument: 'values', expected: 'finite numbers', received: v });
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, n, values: [...values] };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const standardDeviation = Math.sqrt(variance);
  const halfWidth = (studentTQuantile(0.975, n - 1) * standardDeviation) / Math.sqrt(n);
  return { mean, n, standardDeviation, halfWidth, values: [...values] };
}

/**
 * The paired difference `method − reference` over the seeds both measured (`Map` seed → value), as a
 * {@link SeedSummary} with those seeds; undefined when they share no seed.
 */
export function pairedDifference(
  method: ReadonlyMap<number, number>,
  reference: ReadonlyMap<number, number>,
): PairedDifference | undefined {
  const seeds = [...method.keys()].filter((s) => reference.has(s)).sort((a, b) => a - b);
  if (seeds.length === 0) return undefined;
  return { ...summarizeSeeds(seeds.map((s) => method.get(s)! - reference.get(s)!)), seeds };
}

/** `40.43 ± 1.20 (n=3)` for a summary of fractions (shown in %); `40.43 (n=1)` without an interval. */
export function formatSummary(summary: SeedSummary | undefined, digits = 2, signed = false): string {
  if (!summary) return '–';
  const sign = signed && summary.mean >= 0 ? '+' : '';
  const mean = `${sign}${(100 * summary.mean).toFixed(digits)}`;
  const interval = summary.halfWidth === undefined ? '' : ` ± ${(100 * summary.halfWidth).toFixed(digits)}`;
  return `${mean}${interval} (n=${summary.n})`;
}
