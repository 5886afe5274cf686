import { useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchmarkPretrain } from './benchmark-pretrain';

describe('benchmarkPretrain (fastest backend, tiny)', () => {
  beforeAll(async () => {
    await useFastestBackend();
  });

  it.each(['none', 'fgsm', 'pgd'] as const)(
    'times whole pre-training steps with attack %s and leaks no tensor',
    async (attack) => {
      const result = await benchmarkPretrain({
        architecture: 'resnet6-w8',
        batch: 8,
        attack,
        attackSteps: 2,
        steps: 1,
      });
      expect(result).toMatchObject({ architecture: 'resnet6-w8', batch: 8, leakedTensors: 0 });
      expect(result.attack).toBe({ none: 'plain MoCo-v2', fgsm: 'MoCo-FGSM', pgd: 'MoCo-PGD-2' }[attack]);
      expect(result.imagesPerSecond).toBeGreaterThan(0);
      expect(Number.isFinite(result.imagesPerSecond)).toBe(true);
    },
  );
});
