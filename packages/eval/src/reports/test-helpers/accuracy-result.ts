// Test support (not exported): accuracy results for the report tests.
import type { AccuracyResult } from '../../evaluate-robustness';

/** An accuracy of `value` on 100 images under `attack` (no per-class breakdown). */
export const accuracyResult = (attack: string, value: number): AccuracyResult => ({
  attack,
  accuracy: value,
  correct: Math.round(value * 100),
  total: 100,
  perClass: [],
});
