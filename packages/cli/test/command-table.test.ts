import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTACK_DEFAULTS, AUTOATTACK_VERSIONS as LIBRARY_AUTOATTACK_VERSIONS } from '@moco-robust/attacks';
import { BACKEND_NAMES } from '@moco-robust/core';
import { ALL_CORRUPTIONS } from '@moco-robust/data';
import { fraction255 } from '@moco-robust/eval';
import { hideModulesHook } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/command-table';
import { ATTACK_FLAG_DEFAULTS, AUTOATTACK_VERSIONS, BACKEND_CHOICES, CORRUPTION_NAMES } from '../src/flags/choices';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
// every @tensorflow package is made unresolvable: what must not load tfjs still works, and loading it fails loudly
const TFJS = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-cpu',
].join(',');
const withoutTfjs = (args: string[]) =>
  spawnSync(process.execPath, ['--import', hideModulesHook(), bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, MOCO_ROBUST_HIDE_MODULES: TFJS },
    timeout: 60_000,
  });

describe('the command table', () => {
  it('gives every command its help, and usage errors, without loading tfjs', () => {
    const usage = withoutTfjs(['--help']);
    expect(usage.status, usage.stderr).toBe(0);
    for (const [name, command] of Object.entries(COMMANDS)) {
      expect(usage.stdout).toContain(`  ${name.padEnd(10)} ${command.summary}\n`);
      const help = withoutTfjs([name, '--help']);
      expect(help.status, `${name} --help: ${help.stderr}`).toBe(0);
      expect(help.stdout).toContain(`Usage: moco-robust ${command.usage ?? name} [options]\n\n${command.help}\n`);
      for (const flag of Object.keys(command.flags)) expect(help.stdout).toContain(`--${flag}`);
      const unknown = withoutTfjs([name, '--no-such-flag']);
      expect(unknown.status, `${name} --no-such-flag`).toBe(2);
      expect(unknown.stderr).toMatch(new RegExp(`^moco-robust: ${name}: Unknown option '--no-such-flag'; valid`));
    }
    // the words after a command: refused, an action checked against the table, or paths for the handler
    expect(withoutTfjs(['attack', 'extra']).stderr).toBe("moco-robust: attack: unexpected argument 'extra'\n");
    expect(withoutTfjs(['backend', 'rebuild']).stderr).toBe(
      "moco-robust: backend: unknown action 'rebuild'; valid actions: build, info (default)\n",
    );
    expect(withoutTfjs(['data', 'info', 'more']).stderr).toBe("moco-robust: data: unexpected argument 'more'\n");
    const choice = withoutTfjs(['attack', '--attack', 'cw']);
    expect(choice.status).toBe(2);
    expect(choice.stderr).toMatch(/attack: --attack must be one of fgsm, pgd, instance, moco-pgd, moco-fgsm; got 'cw'/);
  });

  it("declares the libraries' choices and defaults without importing them (every library loads tfjs)", () => {
    expect(BACKEND_CHOICES).toEqual(BACKEND_NAMES);
    expect(CORRUPTION_NAMES).toEqual(ALL_CORRUPTIONS);
    expect(AUTOATTACK_VERSIONS).toEqual(Object.keys(LIBRARY_AUTOATTACK_VERSIONS));
    expect(ATTACK_FLAG_DEFAULTS).toEqual({
      epsilon: fraction255(ATTACK_DEFAULTS.epsilon),
      stepSize: fraction255(ATTACK_DEFAULTS.stepSize),
      steps: String(ATTACK_DEFAULTS.steps),
    });
  });
});
