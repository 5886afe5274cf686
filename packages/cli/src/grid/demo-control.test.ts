import { createRunReport, type RobustnessResult } from '@moco-robust/eval';
import { describe, expect, it } from 'vitest';
import { headline, pretrainingVerdict } from './demo-control';

const report = (clean: number, pgd: number) =>
  createRunReport({
    name: 'x',
    method: 'x',
    robustness: {
      clean: { attack: 'clean', accuracy: clean, correct: 0, total: 128, perClass: [] },
      pgd: { attack: 'PGD-5', accuracy: pgd, correct: 0, total: 128, perClass: [] },
    } as unknown as RobustnessResult,
  });

describe('the demo’s pre-training verdict', () => {
  it('says helped / did not help / no difference beyond the noise, with the PGD numbers and the test-set noise', () => {
    const within = pretrainingVerdict(report(0.5, 0.3), report(0.4, 0.2), 4);
    // noise = 1.96 · √(0.3·0.7/128 + 0.2·0.8/128) · 100 = 10.54 points: +10 is within it (nothing to claim)
    expect(within).toBe(
      'At this budget (4 adversarial fine-tuning epochs for both), pre-training made no difference beyond the noise: ' +
        'PGD-5 accuracy 30.00% with ' +
        'pre-training vs 20.00% from a random initialisation (+10.00 points; clean 50.00% vs 40.00%). The difference ' +
        'is within the sampling noise of 128 test images (±10.5 points) and one seed; ' +
        '`moco-robust grid` measures it over seeds with intervals.',
    );
    expect(pretrainingVerdict(report(0.5, 0.1), report(0.4, 0.4), 4)).toMatch(
      /pre-training did not help \(it was worse\): .* \(-30\.00 points; .*exceeds the sampling noise/,
    );
    expect(headline(report(0.5, 0.1), report(0.4, 0.4))).toBe(
      'pre-training did not help at this budget (PGD -30.00 points, one seed)',
    );
    // noise = 1.96 · √(0.5·0.5/128 + 0.2·0.8/128) · 100 = 11.09 points: +30 exceeds it
    expect(pretrainingVerdict(report(0.6, 0.5), report(0.4, 0.2), 4)).toMatch(
      /pre-training helped: .* \(\+30\.00 points; .*exceeds the sampling noise/,
    );
    expect(headline(report(0.5, 0.3), report(0.4, 0.2))).toBe(
      'pre-training made no clear difference at this budget (PGD +10.00 points, within ±10.5, one seed)',
    );
  });
});
