import { it } from 'vitest';
import { describeWithReference, expectReferenceMatch, SEVERITIES } from '../test-helpers/reference-checks';
import { brightness } from './brightness';
import { contrast } from './contrast';
import { jpegCompression } from './jpeg-compression';
import { pixelate } from './pixelate';
import { saturate } from './saturate';

describeWithReference('deterministic colour, resize and JPEG corruptions match the original generator', () => {
  for (const corruption of [brightness, contrast, saturate, pixelate, jpegCompression]) {
    for (const severity of SEVERITIES) {
      it(`${corruption.name} severity ${severity}: |ts − ref| ≤ 1 everywhere, nearly all exact`, () =>
        expectReferenceMatch(corruption, severity));
    }
  }
});
