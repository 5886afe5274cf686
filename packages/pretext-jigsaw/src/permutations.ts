import { InvalidArgumentError, type Rng } from '@moco-robust/core';

/**
 * A permutation of the `P` pieces of a jigsaw grid, row-major: slot `j` of the shuffled image shows
 * the original piece `permutation[j]`.
 */
export type Permutation = readonly number[];

/** The identity permutation of `pieces` pieces (label 0 of the jigsaw task). */
export function identityPermutation(pieces: number): number[] {
  return Array.from({ length: pieces }, (_, j) => j);
}

/** The inverse permutation: shuffling by `invertPermutation(p)` undoes a shuffle by `p`. */
export function invertPermutation(permutation: Permutation): number[] {
  const inverse = new Array<number>(permutation.length);
  for (let j = 0; j < permutation.length; j++) inverse[permutation[j]] = j;
  return inverse;
}

/** Number of slots at which two permutations differ. */
export function hammingDistance(a: Permutation, b: Permutation): number {
  let d = 0;
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) d++;
  return d;
}

/**
 * `count` distinct, non-identity permutations of `pieces` pieces, each uniform at random from the
 * seeded `rng` (rejecting repeats and the identity) — Chen et al.'s choice (`np.random.permutation`
 * per class), not Noroozi & Favaro's maximal-Hamming set: for 16 pieces two random permutations
 * already differ in 15 of 16 slots on average.
 */
export function drawPermutations(count: number, pieces: number, rng: Rng): number[][] {
  if (!(Number.isInteger(pieces) && pieces >= 2))
    throw new InvalidArgumentError({ argument: 'pieces', expected: 'an integer ≥ 2', received: pieces });
  const available = factorial(pieces) - 1;
  if (!(Number.isInteger(count) && count >= 1 && count <= available)) {
    throw new InvalidArgumentError({
      argument: 'permutations',
      expected: `an integer in [1, ${available}] (the non-identity permutations of ${pieces} pieces)`,
      received: count,
    });
  }
  const seen = new Set<string>([identityPermutation(pieces).join(',')]);
  const drawn: number[][] = [];
  while (drawn.length < count) {
    const candidate = Array.from(rng.permutation(pieces));
    const key = candidate.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    drawn.push(candidate);
  }
  return drawn;
}

/** Checks that `value` holds `count` distinct non-identity permutations of `pieces` pieces; returns them as arrays. */
export function assertPermutations(value: unknown, argument: string, count: number, pieces: number): number[][] {
  const expected = `${count} distinct non-identity permutations of 0…${pieces - 1}`;
  if (!Array.isArray(value) || value.length !== count)
    throw new InvalidArgumentError({ argument, expected, received: value });
  const seen = new Set<string>([identityPermutation(pieces).join(',')]);
  return value.map((p: unknown, i) => {
    const valid =
      Array.isArray(p) &&
      p.length === pieces &&
      p.every((v) => Number.isInteger(v) && v >= 0 && v < pieces) &&
      new Set(p).size === pieces;
    const key = valid ? (p as number[]).join(',') : '';
    if (!valid || seen.has(key))
      throw new InvalidArgumentError({
        argument: `${argument}[${i}]`,
        expected: `a permutation of 0…${pieces - 1}, not the identity nor a repeat`,
        received: p,
      });
    seen.add(key);
    return [...(p as number[])];
  });
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}
