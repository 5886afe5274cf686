import { DEFAULT_EPSILON, PAPER_FGSM_EPSILON, PAPER_STEP_SIZE, STANDARD_STEP_SIZE } from '@moco-robust/attacks';
import { BACKEND_NAMES } from '@moco-robust/core';
import { PAPER_ROBUSTNESS, STANDARD_ROBUSTNESS } from '@moco-robust/eval';
import { RESNET_PRESETS } from '@moco-robust/models';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config';
import { PRESETS, PROTOCOLS, resolveRunConfig } from './presets';
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
      steps: 20,
      stepSize: 8 / 255,
      loss: 'mixed',
    });
    expect(resolveRunConfig('full', 'standard', 0).finetune).toMatchObject({
      steps: 10,
      stepSize: 2 / 255,
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
        expect(c.pretrain.epsilon).toBe(DEFAULT_EPSILON);
        expect(c.finetune.epsilon).toBe(DEFAULT_EPSILON);
        expect(c.eval.pgdEpsilon).toBe(DEFAULT_EPSILON);
        expect(c.eval.pgdStepSize).toBe(STANDARD_STEP_SIZE);
      }
      expect(paper.pretrain.stepSize).toBe(PAPER_STEP_SIZE);
      expect(standard.pretrain.stepSize).toBe(STANDARD_STEP_SIZE);
      expect(paper.eval.fgsmEpsilon).toBe(PAPER_FGSM_EPSILON);
      expect(standard.eval.fgsmEpsilon).toBe(DEFAULT_EPSILON);
    }
  });

  it.each([
    [
      { pretrain: { epsilon: 3 } },
      /flags: Invalid argument 'pretrain\.epsilon': expected a number in \[0, 1\].*Divide/,
    ],
    [{ finetune: { stepSize: 2 } }, /Invalid argument 'finetune\.stepSize': expected a number in \[0, 1\]/],
    [{ pretrain: { steps: 0 } }, /Invalid argument 'pretrain\.steps': expected an integer ≥ 1/],
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
