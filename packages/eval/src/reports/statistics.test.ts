import { describe, expect, it } from 'vitest';
import { formatSummary, pairedDifference, studentTQuantile, summarizeSeeds } from './statistics';

describe('seed statistics', () => {
  it('Student-t 0.975 quantiles equal the printed table', () => {
    // t(0.975, df) from standard tables (to 9+ digits)
    const table: Array<[number, number]> = [
      [1, 12.706204736],
      [2, 4.30265273],
      [3, 3.182446305],
      [4, 2.776445105],
      [9, 2.262157163],
      [29, 2.045229642],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 7);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.776445105, 7);
  });

  it('mean ± 95 % t-interval matches a hand computation', () => {
    // values 40 %, 44 %, 45 %: mean 43 %; squared deviations 9e-4 + 1e-4 + 4e-4 = 1.4e-3; s² = 7e-4;
    // half-width = t(0.975, 2) · s / √3 = 4.30265273 · 0.026457513 / 1.732050808 = 0.0657241…
    const s = summarizeSeeds([0.4, 0.44, 0.45]);
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.43, 12);
    expect(s.standardDeviation).toBeCloseTo(Math.sqrt(7e-4), 12);
    expect(s.halfWidth).toBeCloseTo((4.30265273 * 0.026457513) / 1.732050808, 7);
    expect(s.halfWidth).toBeCloseTo(0.0657241, 6);
    expect(formatSummary(s)).toBe('43.00 ± 6.57 (n=3)');
  });

  it('n = 1 has no interval and says so', () => {
    const s = summarizeSeeds([0.5123]);
    expect(s).toEqual({ mean: 0.5123, n: 1, values: [0.5123] });
    expect(formatSummary(s)).toBe('51.23 (n=1)');
  });

  it('paired differences use only the shared seeds', () => {
    const method = new Map([
      [0, 0.5],
      [1, 0.52],
      [2, 0.47],
      [7, 0.9],
    ]);
    const reference = new Map([
      [0, 0.48],
      [1, 0.46],
      [2, 0.47],
      [3, 0.1],
    ]);
    const d = pairedDifference(method, reference)!;
    expect(d.seeds).toEqual([0, 1, 2]);
    // differences 0.02, 0.06, 0: mean 0.02667; deviations −0.00667, 0.03333, −0.02667;
    // s² = 0.00186667/2 = 9.3333e-4
    expect(d.values.map((v) => Number(v.toFixed(10)))).toEqual([0.02, 0.06, 0]);
    expect(d.mean).toBeCloseTo(0.08 / 3, 12);
    expect(d.halfWidth).toBeCloseTo((4.30265273 * Math.sqrt(9.333333333e-4)) / Math.sqrt(3), 7);
    expect(formatSummary(d, 2, true)).toBe(`+2.67 ± ${(100 * d.halfWidth!).toFixed(2)} (n=3)`);
    expect(pairedDifference(new Map([[5, 1]]), reference)).toBeUndefined();
  });

  it('refuses empty and non-finite input with a typed error', () => {
    expect(() => summarizeSeeds([])).toThrow(/Invalid argument 'values': expected at least one value/);
    expect(() => summarizeSeeds([0.1, Number.NaN])).toThrow(/expected finite numbers, got number NaN/);
  });
});
