import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/errors';
import { MocoRobustError } from '../errors/moco-robust-error';
import { Rng, isRng, toRng } from './rng';

describe('Rng', () => {
  it('reproduces a stream from a seed and from a saved state', () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    const first = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(first);
    const saved = a.state();
    const next = [a.float(), a.normal(), a.int(10)];
    const restored = Rng.fromState(JSON.parse(JSON.stringify(saved)));
    expect([restored.float(), restored.normal(), restored.int(10)]).toEqual(next);
  });

  it('gives different streams for different seeds and forks', () => {
    expect(Rng.fromSeed(1).nextUint32()).not.toBe(Rng.fromSeed(2).nextUint32());
    const r = Rng.fromSeed(7);
    const before = r.state();
    expect(r.fork('a').nextUint32()).not.toBe(r.fork('b').nextUint32());
    expect(r.state()).toEqual(before); // fork does not advance the parent
    expect(r.fork('a').nextUint32()).toBe(r.fork('a').nextUint32());
  });

  it('draws with the right moments', () => {
    const r = Rng.fromSeed(3);
    const n = 20000;
    let sum = 0,
      sumSq = 0,
      uniformSum = 0;
    const counts = new Array(5).fill(0);
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      sum += x;
      sumSq += x * x;
      const u = r.float();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      uniformSum += u;
      counts[r.int(5)]++;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.04);
    expect(Math.abs(uniformSum / n - 0.5)).toBeLessThan(0.01);
    for (const c of counts) expect(Math.abs(c / n - 0.2)).toBeLessThan(0.015);
  });

  it('permutes and validates its arguments', () => {
    const p = Rng.fromSeed(5).permutation(50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(() => Rng.fromSeed(-1)).toThrow(InvalidArgumentError);
    expect(() => Rng.fromSeed(1.5)).toThrow(/seed/);
    expect(() => Rng.fromSeed(1).int(0)).toThrow(/'n'/);
    try {
      Rng.fromState({ algorithm: 'nope' } as never);
    } catch (error) {
      expect(MocoRobustError.isInstance(error)).toBe(true);
    }
    expect(isRng(toRng(3))).toBe(true);
    const r = Rng.fromSeed(1);
    expect(toRng(r)).toBe(r);
  });

  it('bulk fills give the same values and the same final state as one draw at a time', () => {
    const one = Rng.fromSeed(99);
    const bulk = Rng.fromSeed(99);
    const expected = [
      ...Array.from({ length: 7 }, () => one.float()),
      ...Array.from({ length: 5 }, () => one.uniform(-3, 2)),
      ...Array.from({ length: 6 }, () => one.normal(0.5, 2)),
    ];
    const out = new Float64Array(20).fill(-1);
    bulk.fillFloats(out, 1, 8);
    bulk.fillUniform(out, -3, 2, 8, 13);
    bulk.fillNormal(out, 0.5, 2, 13, 19);
    expect(Array.from(out)).toEqual([-1, ...expected, -1]);
    expect(bulk.state()).toEqual(one.state());
    expect(bulk.nextUint32()).toBe(one.nextUint32());
    expect(Rng.fromSeed(5).fillFloats(new Float64Array(1000))).toEqual(
      Float64Array.from(
        { length: 1000 },
        (
          (r) => () =>
            r.float()
        )(Rng.fromSeed(5)),
      ),
    );
  });

  it('keeps the xoshiro128** stream: known first outputs and uint32 state words', () => {
    const r = Rng.fromState({ algorithm: 'xoshiro128**', words: [1, 2, 3, 4] });
    // reference values of xoshiro128** from state {1, 2, 3, 4} (Blackman & Vigna's C code)
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([11520, 0, 5927040]);
    const big = Rng.fromState({ algorithm: 'xoshiro128**', words: [0xffffffff, 0x80000000, 0x7fffffff, 1] });
    big.nextUint32();
    for (const word of big.state().words) expect(Number.isInteger(word) && word >= 0 && word < 2 ** 32).toBe(true);
    expect(() => r.fillFloats(new Float64Array(3), 2, 5)).toThrow(/start\/end/);
    expect(() => r.fillFloats([0] as unknown as Float64Array)).toThrow(/'out'/);
  });
});
