// @moco-robust/pretext-jigsaw — jigsaw puzzles as a PretextTaskV1 plugin for @moco-robust/moco.
import type { PretextTaskFactory } from '@moco-robust/core';
import { jigsawTask, type JigsawTaskOptions } from './jigsaw-task';

export { jigsawTask } from './jigsaw-task';
export type { JigsawTask, JigsawTaskOptions } from './jigsaw-task';
export {
  assertPermutations,
  drawPermutations,
  hammingDistance,
  identityPermutation,
  invertPermutation,
} from './permutations';
export type { Permutation } from './permutations';
export { shufflePatches } from './shuffle-patches';
export { jigsawLabels, permutationOfLabel } from './jigsaw-labels';

/** The plugin factory (`--method jigsaw`): `(options?) => PretextTaskV1`. */
export default jigsawTask satisfies PretextTaskFactory<JigsawTaskOptions>;
