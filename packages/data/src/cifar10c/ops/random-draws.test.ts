import { Rng } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import { fillNormal, logFactorial, poisson } from './random-draws';

describe('poisson', () => {
  for (const lambda of [0.5, 3, 9.5, 10, 47, 240, 500]) {
    it(`λ = ${lambda}: mean and variance match within 5 standard errors over 40 000 draws`, () => {
      const rng = Rng.fromSeed(11);
      const n = 40_000;
      let sum = 0,
        sumSquares = 0;
      for (let i = 0; i < n; i++) {
        const k = poisson(rng, lambda);
        expect(Number.isInteger(k) && k >= 0).toBe(true);
        sum += k;
        sumSquares += k * k;
      }
      const mean = sum / n;
      const variance = sumSquares / n - mean * mean;
      expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
      // sd of the sample variance ≈ sqrt((2λ² + λ)/n) for a Poisson
      expect(Math.abs(variance - lambda)).toBeLessThan(5 * Math.sqrt((2 * lambda * lambda + lambda) / n));
    });
  }
  it('λ = 0 gives 0', () => expect(poisson(Rng.fromSeed(1), 0)).toBe(0));
  it('P(k) at λ = 240 matches the Poisson mass near the mode', () => {
    const rng = Rng.fromSeed(3);
    const n = 100_000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (poisson(rng, 240) === 240) hits++;
    const p = Math.exp(-240 + 240 * Math.log(240) - logFactorial(240));
    expect(Math.abs(hits / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  });
});

describe('logFactorial', () => {
  it('joins the table and Stirling series smoothly', () => {
    let exact = 0;
    for (let k = 1; k <= 400; k++) exact += Math.log(k);
    expect(Math.abs(logFactorial(400) - exact) / exact).toBeLessThan(1e-13);
    expect(logFactorial(5)).toBeCloseTo(Math.log(120), 12);
  });
});

describe('fillNormal', () => {
  it('has mean 0 and the requested standard deviation (odd length)', () => {
    const out = fillNormal(Rng.fromSeed(5), new Float64Array(100_001), 0.1);
    let sum = 0,
      sumSquares = 0;
    for (const v of out) {
      sum += v;
      sumSquares += v * v;
    }
    const mean = sum / out.length;
    expect(Math.abs(mean)).toBeLessThan((5 * 0.1) / Math.sqrt(out.length));
    expect(Math.abs(Math.sqrt(sumSquares / out.length - mean * mean) - 0.1)).toBeLessThan(0.001);
    expect(out[out.length - 1]).not.toBe(0);
  });
});
