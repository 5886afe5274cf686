import { InvalidArgumentError } from '../errors/errors';

/** Serializable state of an {@link Rng}: four 32-bit words of xoshiro128**. */
export interface RngState {
  algorithm: 'xoshiro128**';
  words: [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

function checkRange(out: Float64Array, start: number, end: number): void {
  if (!(out instanceof Float64Array))
    throw new InvalidArgumentError({ argument: 'out', expected: 'a Float64Array', received: out });
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= out.length)) {
    throw new InvalidArgumentError({
      argument: 'start/end',
      expected: `integers with 0 ≤ start ≤ end ≤ ${out.length}`,
      received: [start, end],
    });
  }
}

/**
 * Seeded random number generator (xoshiro128**). Every random operation in moco-robust takes one,
 * so a run is reproducible from its seed; `state()` / `Rng.fromState()` checkpoint it exactly.
 * The bulk methods (`fillFloats`, `fillUniform`, `fillNormal`) give the same values as the
 * one-at-a-time methods, several times faster.
 */
export class Rng {
  // the four state words, held as int32 (their uint32 view is the public state) so that V8 keeps them unboxed
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(words: readonly [number, number, number, number]) {
    this.s0 = words[0] | 0;
    this.s1 = words[1] | 0;
    this.s2 = words[2] | 0;
    this.s3 = words[3] | 0;
  }

  /** A generator seeded from a non-negative integer seed (or any string). */
  static fromSeed(seed: number | string): Rng {
    if (typeof seed === 'number' && !(Number.isInteger(seed) && seed >= 0 && seed <= Number.MAX_SAFE_INTEGER)) {
      throw new InvalidArgumentError({ argument: 'seed', expected: 'a non-negative integer', received: seed });
    }
    const base = typeof seed === 'string' ? hashString(seed) : (seed % 0x100000000) ^ Math.floor(seed / 0x100000000);
    const mix = splitmix32(base);
    const words: [number, number, number, number] = [mix(), mix(), mix(), mix()];
    if (words.every((w) => w === 0)) words[0] = 1;
    return new Rng(words);
  }

  /** Restores a generator saved with {@link Rng.state}. */
  static fromState(state: RngState): Rng {
    if (state?.algorithm !== 'xoshiro128**' || !Array.isArray(state.words) || state.words.length !== 4) {
      throw new InvalidArgumentError({
        argument: 'state',
        expected: "an RngState {algorithm: 'xoshiro128**', words: [4 uint32]}",
        received: state,
      });
    }
    return new Rng(state.words.map((w) => w >>> 0) as [number, number, number, number]);
  }

  /** The generator's state, JSON-serializable. */
  state(): RngState {
    return { algorithm: 'xoshiro128**', words: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0] };
  }

  /** A copy with the same state (advancing one does not advance the other). */
  clone(): Rng {
    return new Rng([this.s0, this.s1, this.s2, this.s3]);
  }

  /**
   * An independent child stream derived from this generator's current state and a label;
   * does not advance this generator.
   */
  fork(label: string): Rng {
    const mix = splitmix32(
      (this.s0 ^ rotl(this.s1, 7) ^ rotl(this.s2, 13) ^ rotl(this.s3, 21) ^ hashString(label)) >>> 0,
    );
    const words: [number, number, number, number] = [mix(), mix(), mix(), mix()];
    if (words.every((w) => w === 0)) words[0] = 1;
    return new Rng(words);
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const s2 = this.s2 ^ this.s0;
    const s3 = this.s3 ^ s1;
    this.s1 = s1 ^ s2;
    this.s0 ^= s3;
    this.s2 = s2 ^ (s1 << 9);
    this.s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** Uniform float in [0, 1) with 53 bits of precision. */
  float(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * Fills `out[start..end)` with the next {@link Rng.float} draws, in order (the same values and the
   * same final state as calling `float()` once per element); returns `out`.
   */
  fillFloats(out: Float64Array, start = 0, end = out.length): Float64Array {
    checkRange(out, start, end);
    let s0 = this.s0,
      s1 = this.s1,
      s2 = this.s2,
      s3 = this.s3;
    for (let i = start; i < end; i++) {
      // two xoshiro128** steps (see nextUint32) kept in locals
      let x = Math.imul(s1, 5);
      const hi = Math.imul((x << 7) | (x >>> 25), 9) >>> 5;
      s2 ^= s0;
      s3 ^= s1;
      let t = s1 << 9;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      x = Math.imul(s1, 5);
      const lo = Math.imul((x << 7) | (x >>> 25), 9) >>> 6;
      s2 ^= s0;
      s3 ^= s1;
      t = s1 << 9;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = (hi * 67108864 + lo) / 9007199254740992;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    return out;
  }

  /** Fills `out[start..end)` with the next {@link Rng.uniform}`(low, high)` draws, in order; returns `out`. */
  fillUniform(out: Float64Array, low = 0, high = 1, start = 0, end = out.length): Float64Array {
    this.fillFloats(out, start, end);
    const width = high - low;
    for (let i = start; i < end; i++) out[i] = low + width * out[i];
    return out;
  }

  /** Fills `out[start..end)` with the next {@link Rng.normal}`(mean, std)` draws, in order; returns `out`. */
  fillNormal(out: Float64Array, mean = 0, std = 1, start = 0, end = out.length): Float64Array {
    checkRange(out, start, end);
    for (let i = start; i < end; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Uniform float in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.float();
  }

  /** Uniform integer in [0, n) without modulo bias. */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0 && n <= 0x100000000)) {
      throw new InvalidArgumentError({ argument: 'n', expected: 'an integer in [1, 2^32]', received: n });
    }
    const limit = 0x100000000 - (0x100000000 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal draw (Box–Muller). */
  normal(mean = 0, std = 1): number {
    let u = this.float();
    while (u === 0) u = this.float();
    const v = this.float();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** True with probability `p`. */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }

  /** A seed for a tfjs random op (`tf.randomUniform(..., seed)`), drawn from this stream. */
  tfSeed(): number {
    return this.nextUint32();
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[] | Int32Array | Uint32Array | Float32Array): typeof items {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t as never;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }
}

/** Accepts a seed or an {@link Rng} and returns an {@link Rng} (a seed creates a fresh generator). */
export function toRng(seedOrRng: number | string | Rng | undefined, fallbackSeed = 0): Rng {
  if (isRng(seedOrRng)) return seedOrRng;
  return Rng.fromSeed((seedOrRng as number | string | undefined) ?? fallbackSeed);
}

/** True for an {@link Rng}, also one from another copy of this package (no `instanceof`). */
export function isRng(value: unknown): value is Rng {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Rng).nextUint32 === 'function' &&
    typeof (value as Rng).state === 'function'
  );
}
