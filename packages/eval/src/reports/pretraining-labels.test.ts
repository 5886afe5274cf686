import { describe, expect, it } from 'vitest';
import { pretrainingLabels } from './pretraining-labels';

describe('pretrainingLabels', () => {
  it('names MoCo’s label-free attack, a baseline’s PGD on its own loss, RoCL’s, none and unknown', () => {
    expect(pretrainingLabels({ method: 'moco-v1', attack: 'moco-pgd', steps: 10 })).toEqual({
      method: 'moco-v1',
      pretrainAttack: 'MoCo-PGD-10',
      name: 'MoCo (MoCo-PGD-10)',
    });
    expect(pretrainingLabels({ method: 'moco-v2', attack: 'moco-fgsm', steps: 10 }).pretrainAttack).toBe('MoCo-FGSM');
    expect(pretrainingLabels({ method: 'rotation', attack: 'moco-pgd', steps: 10 })).toEqual({
      method: 'rotation',
      pretrainAttack: 'PGD-10 on the rotation loss',
      name: 'Rotation (PGD-10 on the rotation loss)',
    });
    expect(pretrainingLabels({ method: 'jigsaw', attack: 'moco-fgsm', steps: 10 }).pretrainAttack).toBe(
      'FGSM on the jigsaw loss',
    );
    expect(pretrainingLabels({ method: 'rocl', attack: 'moco-pgd', steps: 10 }).pretrainAttack).toBe(
      'RoCL instance-wise PGD',
    );
    expect(pretrainingLabels({ method: 'selfie', attack: 'none', steps: 10 }).name).toBe('Selfie (clean pre-training)');
    expect(pretrainingLabels({ method: 'none', attack: 'none', steps: 0 }).name).toBe(
      'none (adversarial training from scratch)',
    );
    expect(pretrainingLabels({ method: 'unknown', attack: 'none', steps: 0 }).pretrainAttack).toBe('unknown');
  });
});
