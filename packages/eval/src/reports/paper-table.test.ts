import { describe, expect, it } from 'vitest';
import { PAPER_TABLE_1 } from './run-report';

describe("the paper's quoted Table 1", () => {
  it('agrees with the abstract: MoCo-v1 R50 PGD is 2.79 / 2 / 1.35 points over Jigsaw / Rotation / Selfie', () => {
    // "the setup including Resnet50 structure, PGD attack, and MoCo-v1 shows 2.79%, 2%, and 1.35% of improvements
    // comparing to the Jigsaw, Rotation, Selfie, respectively" (docs/protocol.md, "About the quotes")
    const pgd50 = (method: string) => PAPER_TABLE_1.find((row) => row.method === method)!.pgd.resnet50;
    expect(pgd50('MoCo') - pgd50('Jigsaw')).toBeCloseTo(2.79, 10);
    expect(pgd50('MoCo') - pgd50('Rotation')).toBeCloseTo(2.0, 10);
    expect(pgd50('MoCo') - pgd50('Selfie')).toBeCloseTo(1.35, 10);
  });
});
