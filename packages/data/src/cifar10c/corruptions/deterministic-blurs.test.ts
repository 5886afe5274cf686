import { describe, expect, it } from 'vitest';
import { describeWithReference, expectReferenceMatch, SEVERITIES } from '../test-helpers/reference-checks';
import { defocusBlur } from './defocus-blur';
import { gaussianBlur } from './gaussian-blur';
import { zoomBlur, zoomBlurFactors } from './zoom-blur';

describeWithReference('deterministic blurs match the original generator on the 64 reference images', () => {
  for (const corruption of [gaussianBlur, defocusBlur, zoomBlur]) {
    for (const severity of SEVERITIES) {
      it(`${corruption.name} severity ${severity}: |ts − ref| ≤ 1 everywhere, nearly all exact`, () =>
        expectReferenceMatch(corruption, severity));
    }
  }
});

describe('zoom_blur factors', () => {
  it("follow NumPy's arange(1, stop, 0.01): 7, 12, 16, 21, 26 factors", () => {
    expect([1.06, 1.11, 1.16, 1.21, 1.26].map((stop) => zoomBlurFactors(stop).length)).toEqual([7, 12, 16, 21, 26]);
    expect(zoomBlurFactors(1.06)[2]).toBe(1 + 2 * 0.010000000000000009);
  });
});
