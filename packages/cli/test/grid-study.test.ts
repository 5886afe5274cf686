import { describe, expect, it } from 'vitest';
import { expandGrid, resolveGridSpec } from '../src/grid/grid-spec';
import type { RunConfig } from '../src/presets';

/** A cell's config without what legitimately differs between cells: method, attack, seed and method defaults. */
function budget(config: RunConfig) {
  const { method: _m, attack: _a, temperature: _t, ...pretrain } = config.pretrain;
  return { ...config, seed: 0, pretrain };
}

describe('grid --preset study', () => {
  const spec = resolveGridSpec({ preset: 'study' });
  const cells = expandGrid(spec);

  it("expands to the paper's whole Table 1 grid: 7 methods, MoCo also clean, RoCL its own attack, 3 seeds", () => {
    expect(spec.seeds).toEqual([0, 1, 2]);
    expect(spec.architectures).toEqual(['resnet8-w16']);
    expect(cells).toHaveLength(3 * 14);
    const perSeed = cells.filter((c) => c.seed === 0).map((c) => `${c.method}/${c.pretrainAttack}`);
    expect(perSeed).toEqual([
      'none/none',
      'moco-v1/moco-pgd',
      'moco-v1/moco-fgsm',
      'moco-v1/none',
      'moco-v2/moco-pgd',
      'moco-v2/moco-fgsm',
      'moco-v2/none',
      'jigsaw/moco-pgd',
      'jigsaw/moco-fgsm',
      'rotation/moco-pgd',
      'rotation/moco-fgsm',
      'selfie/moco-pgd',
      'selfie/moco-fgsm',
      'rocl/moco-pgd',
    ]);
    for (const seed of [1, 2])
      expect(cells.filter((c) => c.seed === seed).map((c) => `${c.method}/${c.pretrainAttack}`)).toEqual(perSeed);
    expect(new Set(cells.map((c) => c.hash)).size).toBe(cells.length);
    expect(cells.every((c) => c.config.preset === 'study' && c.config.seed === c.seed)).toBe(true);
  });

  it('gives every method the same budget: data, model, epochs, batch, attack steps, fine-tuning, evaluation', () => {
    const reference = budget(cells[0]!.config);
    for (const cell of cells) expect(budget(cell.config), cell.name).toEqual(reference);
    const c = cells[0]!.config;
    expect(c.data).toEqual({ trainImages: 3072, testImages: 512 }); // the sample's 512 test images, all
    expect(c.pretrain.epochs).toBeGreaterThan(0);
    expect(c.finetune).toMatchObject({ loss: 'adversarial', mode: 'full' });
    expect(c.eval).toMatchObject({ pgdSteps: 20, pgdRestarts: 1, cifar10c: true });
    // MoCo-v1 and -v2 keep their own InfoNCE temperature (0.1 / 0.2), as a single run of the method would
    const temperature = (method: string) => cells.find((x) => x.method === method)!.config.pretrain.temperature;
    expect([temperature('moco-v1'), temperature('moco-v2')]).toEqual([0.1, 0.2]);
  });

  it('flags and a spec file still override the preset: fewer seeds, methods, AutoAttack', () => {
    const small = expandGrid(
      resolveGridSpec({ preset: 'study', seeds: [0], methods: ['none', 'moco-v1', 'rocl'], autoattack: 'cpu' }),
    );
    expect(small.map((c) => `${c.method}/${c.pretrainAttack}`)).toEqual([
      'none/none',
      'moco-v1/moco-pgd',
      'moco-v1/moco-fgsm',
      'moco-v1/none',
      'rocl/moco-pgd',
    ]);
    expect(small.every((c) => c.config.eval.autoAttackVersion === 'cpu')).toBe(true);
    // the same cell with AutoAttack is another cell (another hash); without it the hash is that of the plain grid
    expect(small[0]!.hash).not.toBe(cells[0]!.hash);
    expect(expandGrid(resolveGridSpec({ preset: 'study', seeds: [0], methods: ['none'] }))[0]!.hash).toBe(
      cells[0]!.hash,
    );
  });
});

describe('grid spec: AutoAttack and per-method attacks', () => {
  it('refuses a bad AutoAttack version or a bad per-method attack, naming the key', () => {
    expect(() => resolveGridSpec({ autoattack: 'full' })).toThrow(
      /'autoattack' must be one of standard, cpu; got "full"/,
    );
    expect(() => resolveGridSpec({ methodAttacks: { rocl: ['pgd'] } })).toThrow(
      /'methodAttacks.rocl' must hold moco-pgd, moco-fgsm, none; got 'pgd'/,
    );
    expect(() => resolveGridSpec({ methodAttacks: ['moco-pgd'] })).toThrow(/'methodAttacks' must map methods/);
    expect(() => resolveGridSpec({ settings: { eval: { autoAttackVersion: 'full' } } })).toThrow(
      /'eval.autoAttackVersion' must be one of standard, cpu/,
    );
  });

  it('sets the AutoAttack version and iterations in every cell config', () => {
    const [cell] = expandGrid(
      resolveGridSpec({
        preset: 'tiny',
        methods: ['none'],
        seeds: [0],
        autoattack: 'standard',
        settings: { eval: { autoAttackSteps: 5 } },
      }),
    );
    expect(cell!.config.eval).toMatchObject({ autoAttackVersion: 'standard', autoAttackSteps: 5 });
  });
});
