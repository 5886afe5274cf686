import { ATTACK_DEFAULTS, AUTOATTACK_VERSIONS as LIBRARY_AUTOATTACK_VERSIONS } from '@moco-robust/attacks';
import { BACKEND_NAMES } from '@moco-robust/core';
import { ALL_CORRUPTIONS } from '@moco-robust/data';
import { fraction255 } from '@moco-robust/eval';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/command-table';
import { ATTACK_FLAG_DEFAULTS, AUTOATTACK_VERSIONS, BACKEND_CHOICES, CORRUPTION_NAMES } from '../src/flags/choices';
import { runCliWithoutTfjs } from './run-cli';

describe('the command table', () => {
  it('gives every command its help, and usage errors, without loading tfjs', () => {
    const usage = runCliWithoutTfjs(['--help']);
    expect(usage.status, usage.stderr).toBe(0);
    for (const [name, command] of Object.entries(COMMANDS)) {
      expect(usage.stdout).toContain(`  ${name.padEnd(10)} ${command.summary}\n`);
      const help = runCliWithoutTfjs([name, '--help']);
      expect(help.status, `${name} --help: ${help.stderr}`).toBe(0);
      expect(help.stdout).toContain(`Usage: moco-robust ${command.usage ?? name} [options]\n\n${command.help}\n`);
      for (const flag of Object.keys(command.flags)) expect(help.stdout).toContain(`--${flag}`);
      const unknown = runCliWithoutTfjs([name, '--no-such-flag']);
      expect(unknown.status, `${name} --no-such-flag`).toBe(2);
      expect(unknown.stderr).toMatch(new RegExp(`^moco-robust: ${name}: Unknown option '--no-such-flag'; valid`));
    }
    // the words after a command: refused, an action checked against the table, or paths for the handler
    expect(runCliWithoutTfjs(['attack', 'extra']).stderr).toBe("moco-robust: attack: unexpected argument 'extra'\n");
    expect(runCliWithoutTfjs(['backend', 'rebuild']).stderr).toBe(
      "moco-robust: backend: unknown action 'rebuild'; valid actions: build, info (default)\n",
    );
    expect(runCliWithoutTfjs(['data', 'info', 'more']).stderr).toBe("moco-robust: data: unexpected argument 'more'\n");
    const choice = runCliWithoutTfjs(['attack', '--attack', 'cw']);
    expect(choice.status).toBe(2);
    expect(choice.stderr).toMatch(/attack: --attack must be one of fgsm, pgd, instance, moco-pgd, moco-fgsm; got 'cw'/);
  });

  it("takes the libraries' choices and defaults from their tfjs-free /constants entries, as the main ones", () => {
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
