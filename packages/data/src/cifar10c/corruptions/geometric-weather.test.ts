import { it } from 'vitest';
import { referenceDraws, referenceField } from '../test-helpers/reference';
import {
  describeWithReference,
  expectReferenceMatch,
  expectWithinSeedSpread,
  SEVERITIES,
} from '../test-helpers/reference-checks';
import { elasticTransform } from './elastic-transform';
import { snow } from './snow';
import { spatter } from './spatter';

describeWithReference('elastic_transform, snow and spatter match the original generator', () => {
  for (const severity of SEVERITIES) {
    it(`elastic_transform severity ${severity} fed the recorded draws: |ts − ref| ≤ 1 everywhere`, () => {
      const draws = referenceDraws('elastic_transform', severity);
      const dx = referenceField(`elastic_transform_s${severity}_uniform_dx.f32`);
      const dy = referenceField(`elastic_transform_s${severity}_uniform_dy.f32`);
      expectReferenceMatch(elasticTransform, severity, {
        drawsFor: (i) => ({ affineOffsets: draws[i].affine_offsets as number[], uniformDx: dx[i], uniformDy: dy[i] }),
      });
    });
    it(`elastic_transform severity ${severity} with its own draws: statistics within the seed spread`, () =>
      expectWithinSeedSpread(elasticTransform, severity, [11, 12, 13]));
    it(`snow severity ${severity} fed the recorded field and angle: |ts − ref| ≤ 1 everywhere`, () => {
      const draws = referenceDraws('snow', severity);
      const fields = referenceField(`snow_s${severity}_normal.f32`);
      expectReferenceMatch(snow, severity, {
        drawsFor: (i) => ({ angleDeg: Math.fround(draws[i].angle_deg as number), normalField: fields[i] }),
      });
    });
    it(`snow severity ${severity} with its own draws: statistics within the seed spread`, () =>
      expectWithinSeedSpread(snow, severity, [11, 12, 13]));
    it(`spatter severity ${severity} fed the recorded liquid layer: |ts − ref| ≤ 1 everywhere`, () => {
      const fields = referenceField(`spatter_s${severity}_normal.f32`);
      expectReferenceMatch(spatter, severity, { drawsFor: (i) => ({ normalField: fields[i] }) });
    });
    it(`spatter severity ${severity} with its own draws: statistics within the seed spread`, () =>
      expectWithinSeedSpread(spatter, severity, [11, 12, 13]));
  }
});
