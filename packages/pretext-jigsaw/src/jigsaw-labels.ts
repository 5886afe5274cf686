import { InvalidArgumentError, type Rng } from '@moco-robust/core';
import { identityPermutation, type Permutation } from './permutations';

/**
 * Jigsaw labels for a batch of `count` images: 0 (the identity, unshuffled) with probability
 * `identityProbability`, else `1 + p` for a uniform `p` of the `permutations` fixed permutations.
 */
export function jigsawLabels(count: number, permutations: number, identityProbability: number, rng: Rng): Int32Array {
  if (!(Number.isInteger(count) && count >= 0))
    throw new InvalidArgumentError({ argument: 'count', expected: 'a non-negative integer', received: count });
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.float() < identityProbability ? 0 : 1 + rng.int(permutations);
  return labels;
}

/** The permutation of label `label`: the identity for 0, `permutations[label − 1]` otherwise. */
export function permutationOfLabel(
  label: number,
  permutations: ReadonlyArray<Permutation>,
  pieces: number,
): Permutation {
  if (!(Number.isInteger(label) && label >= 0 && label <= permutations.length)) {
    throw new InvalidArgumentError({
      argument: 'label',
      expected: `an integer in [0, ${permutations.length}]`,
      received: label,
    });
  }
  return label === 0 ? identityPermutation(pieces) : permutations[label - 1];
}
