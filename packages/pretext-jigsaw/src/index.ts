// @moco-robust/pretext-jigsaw — jigsaw puzzles as a PretextTaskV1 plugin for @moco-robust/moco.
import type { PretextTaskFactory } from '@moco-robust/core';
import { jigsawTask, type JigsawTaskOptions } from './jigsaw-task';

// The task: patch puzzles shuffled by one of a fixed set of permutations (Chen et al.)
export { jigsawTask } from './jigsaw-task';
export type { JigsawTask, JigsawTaskOptions } from './jigsaw-task';

// Permutations: the fixed set, its check when a state is loaded, helpers
export {
  assertPermutations,
  drawPermutations,
  hammingDistance,
  identityPermutation,
  invertPermutation,
} from './permutations';
export type { Permutation } from './permutations';

// Puzzles: shuffled patches and their labels
export { shufflePatches } from './shuffle-patches';
export { jigsawLabels, permutationOfLabel } from './jigsaw-labels';

/** The plugin factory (`--method jigsaw`): `(options?) => PretextTaskV1`. */
export default jigsawTask satisfies PretextTaskFactory<JigsawTaskOptions>;
