import { describe, expect, it } from 'vitest';
import { closestName } from './closest-name';

describe('closestName', () => {
  const methods = ['moco-v1', 'moco-v2', 'rotation', 'jigsaw', 'selfie', 'rocl'];
  it('suggests the method a misspelling meant', () => {
    expect(closestName('rotaton', methods)).toBe('rotation');
    expect(closestName('jigsw', methods)).toBe('jigsaw');
    expect(closestName('Selfy', methods)).toBe('selfie');
    expect(closestName('moco-v3', methods)).toBe('moco-v1');
    expect(closestName('roc', methods)).toBe('rocl');
  });
  it('suggests nothing for a name that is not close to any', () => {
    expect(closestName('nonexistent', methods)).toBeUndefined();
    expect(closestName('simclr', methods)).toBeUndefined();
    expect(closestName('x', [])).toBeUndefined();
  });
});
