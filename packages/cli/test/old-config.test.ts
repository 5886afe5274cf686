import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cifarSampleDir } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli';
import { resolveConfig } from '../src/config';
import { canonicalJson } from '../src/canonical-json';
import { cellHash, expandGrid, resolveGridSpec } from '../src/grid/grid-spec';
import { upgradeRunConfig } from '../src/upgrade-run-config';
import before from './fixtures/run-configs-v1.json';

// Run configs written before the settings took the libraries' names (fixtures/cli-0.x-*: the config.json and the
// printed result of real runs of that CLI, tiny preset, node backend) still resume, reach the same numbers, and keep
// their grid cells' names.
const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => join(here, 'fixtures', name);
const sample = cifarSampleDir();
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const RUNS = before as unknown as Record<string, { run: Record<string, unknown> }>;

/**
 * `actual` has `expected`'s structure and numbers to 3e-5 relative: float32 kernels may sum in another order in a later
 * version (the native stride-2 input gradient's phase convolutions moved the fine-tuning loss by 1.4e-6) or on another
 * CPU (the pre-training loss is 1.26e-5 off on an AVX-512 host, whose oneDNN convolutions sum in another order than
 * the AVX2 host's). A setting read wrongly moves them more: on that host a doubled weight decay moved the pre-training
 * loss by 4.8e-5, a step size of 1/255 instead of 2/255 by 7.8e-3.
 */
function expectSameNumbers(actual: unknown, expected: unknown, path = 'result'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(Math.abs((actual as number) - expected), path).toBeLessThanOrEqual(3e-5 * Math.max(1, Math.abs(expected)));
  } else if (expected !== null && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected))
      expectSameNumbers((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  } else expect(actual, path).toEqual(expected);
}

describe('an old config.json', () => {
  it('upgrades to the new names with the values the run used', () => {
    const old = readJson(join(fixture('cli-0.x-pretrain'), 'config.json'));
    const config = upgradeRunConfig(old);
    expect(config.pretrain).toMatchObject({
      attack: { kind: 'pgd', epsilon: old.pretrain.epsilon, stepSize: old.pretrain.stepSize, steps: 2 },
      optimizer: { learningRate: 0.06, weightDecay: 5e-4, momentum: 0.9, schedule: 'cosine' },
      checkpoint: { everySteps: 2, keep: 2, everyEpochs: 1 },
      logEvery: 5,
    });
    expect(config.backend).toBe('node');
    const finetune = upgradeRunConfig(readJson(join(fixture('cli-0.x-finetune'), 'config.json'))).finetune;
    expect(finetune).toMatchObject({ validationSize: 32, validationPgdSteps: 2, attack: { steps: 1 } });
    expect(upgradeRunConfig(config as never)).toEqual(config); // a current config is left as it is
  });

  it('as a --config file is upgraded the same way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mr-old-config-'));
    const file = join(dir, 'settings.json');
    writeFileSync(
      file,
      JSON.stringify({ pretrain: { epsilon: 4 / 255, attack: 'moco-fgsm' }, eval: { autoAttack: 'cpu' } }),
    );
    const config = await resolveConfig({ preset: 'tiny', configFile: file });
    expect(config.pretrain.attack).toMatchObject({ kind: 'fgsm', epsilon: 4 / 255 });
    expect(config.eval.autoAttackVersion).toBe('cpu');
  });

  it("keeps a grid cell's hash: cells of grids made before are found again", () => {
    for (const { run } of Object.values(RUNS)) {
      const old = createHash('sha256').update(canonicalJson(run)).digest('hex').slice(0, 10);
      expect(cellHash(upgradeRunConfig(run))).toBe(old);
    }
    // a grid spec in the old names expands to the same cells as one in the new names
    const settings = { finetune: { epochs: 1, validationImages: 16 }, eval: { cifar10cImages: 4 } };
    const renamed = { finetune: { epochs: 1, validationSize: 16 }, eval: { cifar10cImages: 4 } };
    const names = (given: object) =>
      expandGrid(resolveGridSpec({ preset: 'tiny', seeds: [0], settings: given })).map((c) => c.name);
    expect(names(settings)).toEqual(names(renamed));
    // a setting the old shape did not have makes a new cell
    const knn = { ...renamed, pretrain: { knn: { everyEpochs: 0 } } };
    expect(names(knn)).not.toEqual(names(renamed));
  });
});

describe.skipIf(!sample)('--resume of a run an older CLI started', () => {
  it.each([
    ['pretrain', 'cli-0.x-pretrain', (r: { loss: number; knnAccuracy: number }) => [r.loss, r.knnAccuracy]],
    ['finetune', 'cli-0.x-finetune', (r: { history: unknown; bestEpoch: number }) => [r.history, r.bestEpoch]],
  ] as const)(
    '%s continues with its saved settings and reaches the numbers that CLI printed',
    async (command, name, pick) => {
      const out = join(await mkdtemp(join(tmpdir(), 'mr-old-run-')), 'run');
      cpSync(join(fixture(name), 'config.json'), join(out, 'config.json'));
      const resumed = runCli([command, '--resume', '--out', out, '--json']);
      expect(resumed.status, resumed.stderr).toBe(0);
      const printed = readJson(join(fixture(name), 'result.json'));
      expectSameNumbers(pick(JSON.parse(resumed.stdout)), pick(printed));
    },
  );
});
