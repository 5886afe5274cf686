import {
  AUTOATTACK_VERSIONS,
  DEFAULT_EPSILON,
  PAPER_FGSM_EPSILON,
  PAPER_STEP_SIZE,
  STANDARD_STEP_SIZE,
} from '@moco-robust/attacks';
import { BACKEND_NAMES } from '@moco-robust/core';
import {
  FINETUNE_LOSSES,
  FINETUNE_SCHEDULES,
  PAPER_FINETUNE,
  PAPER_ROBUSTNESS,
  resolveFinetuneConfig,
  STANDARD_FINETUNE,
  STANDARD_ROBUSTNESS,
  type FinetuneConfig,
} from '@moco-robust/eval';
import { RESNET_PRESETS } from '@moco-robust/models';
import {
  DEFAULT_PRETRAIN_CONFIG,
  PAPER_PRETRAIN,
  PRETRAIN_ATTACK_KINDS,
  resolvePretrainConfig,
  type PretrainConfig,
} from '@moco-robust/moco';
import { describe, expect, it } from 'vitest';
import before from '../test/fixtures/run-configs-v1.json';
import { resolveConfig } from './config';
import {
  finetuneSettings,
  PRESETS,
  PRETRAIN_ATTACKS,
  pretrainAttackKind,
  pretrainSettings,
  PROTOCOLS,
  resolveRunConfig,
} from './presets';
import { legacyRunConfig, RENAMED_KEYS, upgradeRunConfig } from './upgrade-run-config';
import { pretextTaskFactory } from './run/tasks';
import { UsageError } from './usage-error';

describe('the protocol settings (docs/protocol.md)', () => {
  it.each(PROTOCOLS)('%s evaluates with PGD-20, ε 8/255, α 2/255, one random start (demo and full)', (protocol) => {
    for (const preset of ['demo', 'full'] as const) {
      const e = resolveRunConfig(preset, protocol, 0).eval;
      expect(e).toMatchObject({ pgdSteps: 20, pgdRestarts: 1 });
      expect(e.pgdEpsilon).toBeCloseTo(8 / 255, 12);
      expect(e.pgdStepSize).toBeCloseTo(2 / 255, 12);
    }
  });

  it('every preset evaluates PGD with α 2/255 under both protocols', () => {
    for (const preset of PRESETS)
      for (const protocol of PROTOCOLS) expect(resolveRunConfig(preset, protocol, 0).eval.pgdStepSize).toBe(2 / 255);
  });

  it("the library's robustness presets agree with the CLI's: PGD α 2/255 in both, FGSM ε 10/255 / 8/255", () => {
    expect(PAPER_ROBUSTNESS).toMatchObject({ pgdSteps: 20, pgdStepSize: 2 / 255, pgdEpsilon: 8 / 255, pgdRestarts: 1 });
    expect(STANDARD_ROBUSTNESS).toMatchObject({ pgdSteps: 20, pgdStepSize: 2 / 255, pgdEpsilon: 8 / 255 });
    expect(PAPER_ROBUSTNESS.fgsmEpsilon).toBe(10 / 255);
    expect(resolveRunConfig('full', 'paper', 0).eval.fgsmEpsilon).toBe(10 / 255);
    expect(resolveRunConfig('full', 'standard', 0).eval.fgsmEpsilon).toBe(8 / 255);
  });

  it('fine-tunes with PGD-20 α 8/255 under paper and PGD-10 α 2/255 under standard (full preset)', () => {
    expect(resolveRunConfig('full', 'paper', 0).finetune).toMatchObject({
      attack: { steps: 20, stepSize: 8 / 255 },
      loss: 'mixed',
    });
    expect(resolveRunConfig('full', 'standard', 0).finetune).toMatchObject({
      attack: { steps: 10, stepSize: 2 / 255 },
      loss: 'adversarial',
    });
  });

  it('the commands resolve the same evaluation settings (no --protocol: standard; --protocol paper)', async () => {
    for (const protocol of [undefined, 'paper']) {
      const config = await resolveConfig({ preset: 'demo', protocol });
      expect(config.eval.pgdStepSize).toBe(2 / 255);
      expect(config.eval.pgdSteps).toBe(20);
    }
  });
});

describe('per-method defaults reach the engine', () => {
  it('--method moco-v1 trains and attacks at temperature 0.1, moco-v2 at 0.2; an explicit value wins', async () => {
    const v1 = await resolveConfig({ preset: 'tiny', overrides: { pretrain: { method: 'moco-v1' } } });
    expect(v1.pretrain.temperature).toBe(0.1);
    const v2 = await resolveConfig({ preset: 'tiny', overrides: { pretrain: { method: 'moco-v2' } } });
    expect(v2.pretrain.temperature).toBe(0.2);
    const set = await resolveConfig({
      preset: 'tiny',
      overrides: { pretrain: { method: 'moco-v1', temperature: 0.5 } },
    });
    expect(set.pretrain.temperature).toBe(0.5);
    const task = (await pretextTaskFactory(v1))();
    expect(task.name).toBe('moco-v1');
    expect(task.state()).toMatchObject({ version: 'v1', temperature: 0.1 });
  });

  it("pretrain.combine is a setting: the task's own by default, adversarial or mean when set", async () => {
    expect((await resolveConfig({ preset: 'tiny' })).pretrain.combine).toBe('task');
    for (const combine of ['adversarial', 'mean'] as const)
      expect((await resolveConfig({ preset: 'tiny', overrides: { pretrain: { combine } } })).pretrain.combine).toBe(
        combine,
      );
    await expect(resolveConfig({ preset: 'tiny', overrides: { pretrain: { combine: 'sum' } } })).rejects.toThrow(
      /'pretrain.combine' must be one of adversarial, mean, task/,
    );
  });
});

describe('pretrain.combine reaches the task the engine trains', () => {
  it('a set combine replaces the method’s own; `task` keeps it', async () => {
    const mean = await resolveConfig({ preset: 'tiny', overrides: { pretrain: { combine: 'mean' } } });
    expect((await pretextTaskFactory(mean))().combine).toBe('mean');
    expect((await pretextTaskFactory(await resolveConfig({ preset: 'tiny' })))().combine).toBe('adversarial');
  });
});

describe('the attack settings: one vocabulary from flag to kernel', () => {
  it("the presets' ε and α are the attacks library's constants", () => {
    for (const preset of PRESETS) {
      const paper = resolveRunConfig(preset, 'paper', 0);
      const standard = resolveRunConfig(preset, 'standard', 0);
      for (const c of [paper, standard]) {
        expect(c.pretrain.attack.epsilon).toBe(DEFAULT_EPSILON);
        expect(c.finetune.attack.epsilon).toBe(DEFAULT_EPSILON);
        expect(c.eval.pgdEpsilon).toBe(DEFAULT_EPSILON);
        expect(c.eval.pgdStepSize).toBe(STANDARD_STEP_SIZE);
      }
      expect(paper.pretrain.attack.stepSize).toBe(PAPER_STEP_SIZE);
      expect(standard.pretrain.attack.stepSize).toBe(STANDARD_STEP_SIZE);
      expect(paper.eval.fgsmEpsilon).toBe(PAPER_FGSM_EPSILON);
      expect(standard.eval.fgsmEpsilon).toBe(DEFAULT_EPSILON);
    }
  });

  it.each([
    [
      { pretrain: { attack: { epsilon: 3 } } },
      /flags: Invalid argument 'pretrain\.attack\.epsilon': expected a number in \[0, 1\].*Divide/,
    ],
    [
      { finetune: { attack: { stepSize: 2 } } },
      /Invalid argument 'finetune\.attack\.stepSize': expected a number in \[0, 1\]/,
    ],
    [{ pretrain: { attack: { steps: 0 } } }, /Invalid argument 'pretrain\.attack\.steps': expected an integer ≥ 1/],
    [
      { pretrain: { checkpoint: { keep: 0 } } },
      /Invalid argument 'pretrain\.checkpoint\.keep': expected an integer ≥ 1/,
    ],
    [{ finetune: { checkpointKeep: 1.5 } }, /Invalid argument 'finetune\.checkpointKeep': expected an integer ≥ 1/],
    [{ finetune: { validationSize: -1 } }, /Invalid argument 'finetune\.validationSize': expected an integer ≥ 0/],
    [{ eval: { batchSize: 0 } }, /Invalid argument 'eval\.batchSize': expected a positive integer/],
    [{ eval: { pgdEpsilon: 1.5 } }, /Invalid argument 'eval\.pgdEpsilon'/],
    [{ eval: { fgsmEpsilon: 8 } }, /Invalid argument 'eval\.fgsmEpsilon'/],
    [{ eval: { pgdSteps: 2.5 } }, /Invalid argument 'eval\.pgdSteps': expected an integer ≥ 0/],
    [{ eval: { pgdRestarts: 0 } }, /Invalid argument 'eval\.pgdRestarts': expected an integer ≥ 1/],
  ])('%j is refused by the library validator, named by its CLI path', async (overrides, message) => {
    const attempt = resolveConfig({ preset: 'tiny', overrides });
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(resolveConfig({ preset: 'tiny', overrides })).rejects.toThrow(message);
  });

  it('accepts the edges the libraries accept', async () => {
    const c = await resolveConfig({ preset: 'tiny', overrides: { eval: { pgdSteps: 0, pgdEpsilon: 1 } } });
    expect(c.eval).toMatchObject({ pgdSteps: 0, pgdEpsilon: 1 });
  });

  it('backend and architecture choices are the libraries’ lists', async () => {
    for (const backend of BACKEND_NAMES)
      expect((await resolveConfig({ preset: 'tiny', overrides: { backend } })).backend).toBe(backend);
    for (const architecture of Object.keys(RESNET_PRESETS)) {
      const c = await resolveConfig({ preset: 'tiny', overrides: { model: { architecture } } });
      expect(c.model.architecture).toBe(architecture);
    }
    await expect(resolveConfig({ preset: 'tiny', overrides: { backend: 'webgpu' } })).rejects.toThrow(
      `'backend' must be one of ${BACKEND_NAMES.join(', ')}; got 'webgpu'`,
    );
  });
});

/** What the CLI resolved before its settings took the libraries' names: the run config and each library's config. */
const BEFORE = before as unknown as Record<
  string,
  { run: Record<string, unknown>; pretrain: PretrainConfig; finetune: FinetuneConfig }
>;

describe('the run config is the libraries’ config types (issue 20)', () => {
  it('composes the libraries’ presets: every setting outside the sizes is the protocol preset’s', () => {
    for (const preset of PRESETS)
      for (const protocol of PROTOCOLS) {
        const c = resolveRunConfig(preset, protocol, 0);
        const paper = protocol === 'paper';
        const { seed: _p, ...pretrain } = paper ? PAPER_PRETRAIN : DEFAULT_PRETRAIN_CONFIG;
        const { seed: _f, ...finetune } = paper ? PAPER_FINETUNE : STANDARD_FINETUNE;
        const { seed: _e, ...robustness } = paper ? PAPER_ROBUSTNESS : STANDARD_ROBUSTNESS;
        expect(c.pretrain).toMatchObject({
          ...pretrain,
          epochs: c.pretrain.epochs,
          batchSize: c.pretrain.batchSize,
          attack: { ...pretrain.attack, steps: c.pretrain.attack.steps },
          logEvery: 5,
        });
        expect(c.finetune).toMatchObject({
          ...finetune,
          epochs: c.finetune.epochs,
          batchSize: c.finetune.batchSize,
          attack: { ...finetune.attack, steps: c.finetune.attack.steps },
          optimizer: { ...finetune.optimizer, learningRate: c.finetune.optimizer.learningRate, schedule: 'cosine' },
          validationSize: c.finetune.validationSize,
          validationPgdSteps: Math.min(10, Math.max(1, 2 * c.finetune.attack.steps)),
          logEvery: 5,
        });
        expect(c.eval).toMatchObject({ ...robustness, pgdSteps: c.eval.pgdSteps });
      }
  });

  it('every preset × protocol resolves to the values of the CLI before the rename, field by field', () => {
    for (const preset of PRESETS)
      for (const protocol of PROTOCOLS) {
        const before = BEFORE[`${preset}/${protocol}`]!;
        const c = resolveRunConfig(preset, protocol, 0);
        // the run config, in the old names
        expect(legacyRunConfig(c)).toEqual(before.run);
        // and what each library was given: the old CLI's translation, resolved by the library, against the section
        expect(resolvePretrainConfig(pretrainSettings(c))).toEqual(before.pretrain);
        const finetune = resolveFinetuneConfig(finetuneSettings(c));
        // the old CLI passed the standard preset's milestones under every protocol; a cosine schedule never reads them
        expect(finetune.optimizer.schedule).toBe('cosine');
        const { milestones: _now, ...optimizer } = finetune.optimizer;
        const { milestones: _then, ...optimizerBefore } = before.finetune.optimizer;
        expect({ ...finetune, optimizer }).toEqual({ ...before.finetune, optimizer: optimizerBefore });
        // an old config.json of the same run upgrades to exactly today's config
        expect(upgradeRunConfig(before.run)).toEqual(c);
      }
  });

  it('choices are the libraries’ constants', async () => {
    await expect(
      resolveConfig({ preset: 'tiny', overrides: { pretrain: { attack: { kind: 'moco-pgd' } } } }),
    ).rejects.toThrow(`'pretrain.attack.kind' must be one of ${PRETRAIN_ATTACK_KINDS.join(', ')}; got 'moco-pgd'`);
    await expect(resolveConfig({ preset: 'tiny', overrides: { finetune: { loss: 'madry' } } })).rejects.toThrow(
      `'finetune.loss' must be one of ${FINETUNE_LOSSES.join(', ')}`,
    );
    await expect(
      resolveConfig({ preset: 'tiny', overrides: { finetune: { optimizer: { schedule: 'linear' } } } }),
    ).rejects.toThrow(`'finetune.optimizer.schedule' must be one of ${FINETUNE_SCHEDULES.join(', ')}`);
    await expect(resolveConfig({ preset: 'tiny', overrides: { eval: { autoAttackVersion: 'full' } } })).rejects.toThrow(
      `'eval.autoAttackVersion' must be one of ${Object.keys(AUTOATTACK_VERSIONS).join(', ')}`,
    );
  });

  it('the attack is saved as the library’s kind; the paper’s names normalise in one place', () => {
    expect(PRETRAIN_ATTACKS).toEqual(['moco-pgd', 'moco-fgsm', 'none']);
    expect(['moco-pgd', 'moco-fgsm', 'none', 'pgd'].map(pretrainAttackKind)).toEqual(['pgd', 'fgsm', 'none', 'pgd']);
    expect(() => pretrainAttackKind('moco-cw')).toThrow(/one of moco-pgd, moco-fgsm, none/);
  });

  it('validationPgdSteps follows finetune.attack.steps unless set', async () => {
    const five = await resolveConfig({ preset: 'tiny', overrides: { finetune: { attack: { steps: 5 } } } });
    expect(five.finetune.validationPgdSteps).toBe(10);
    const one = await resolveConfig({ preset: 'tiny', overrides: { finetune: { attack: { steps: 1 } } } });
    expect(one.finetune.validationPgdSteps).toBe(2);
    const set = await resolveConfig({
      preset: 'tiny',
      overrides: { finetune: { attack: { steps: 5 }, validationPgdSteps: 3 } },
    });
    expect(set.finetune.validationPgdSteps).toBe(3);
  });

  it('an old key given as a flag is refused with its new name', async () => {
    for (const [old, renamed] of Object.entries(RENAMED_KEYS)) {
      const [section, key] = old.split('.') as [string, string];
      const value = key === 'attack' ? 'moco-pgd' : key === 'autoAttack' ? 'cpu' : 1;
      await expect(resolveConfig({ preset: 'tiny', overrides: { [section]: { [key]: value } } })).rejects.toThrow(
        `flags: '${old}' is now '${renamed}'`,
      );
    }
  });
});
