import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRootDir } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { readmeBlocks } from './readme-blocks';

const repo = repoRootDir();
const published = readdirSync(join(repo, 'packages')).filter((name) => {
  const file = join(repo, 'packages', name, 'package.json');
  return existsSync(file) && !JSON.parse(readFileSync(file, 'utf8')).private;
});

/**
 * The package READMEs cannot rot: each says how to install it with its peers, and every code block marked
 * `<!-- readme-test: esm|cjs -->` runs as written against the workspace build (the registry test runs the attacks
 * README's blocks again from a registry install).
 */
describe('package READMEs', () => {
  it.each(published)('%s: an install line with the package, module formats and conventions', (name) => {
    const readme = readFileSync(join(repo, 'packages', name, 'README.md'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(repo, 'packages', name, 'package.json'), 'utf8'));
    if (name !== 'cli') {
      expect(readme).toMatch(new RegExp(`npm install (-D )?${pkg.name}`));
      for (const peer of Object.keys(pkg.peerDependencies ?? {}).filter(
        (p) => !pkg.peerDependenciesMeta?.[p]?.optional,
      ))
        expect(readme, `${name} README names its peer ${peer}`).toContain(peer);
      expect(readme).toMatch(/CommonJS/);
      expect(readme).toMatch(/int32/);
    }
  });

  it('runs the marked examples as written', () => {
    let ran = 0;
    for (const name of published) {
      for (const [kind, code] of readmeBlocks(join(repo, 'packages', name, 'README.md'))) {
        if (kind !== 'esm' && kind !== 'cjs') continue;
        const args = kind === 'esm' ? ['--input-type=module', '-e', code] : ['--input-type=commonjs', '-e', code];
        const output = execFileSync(process.execPath, args, { cwd: repo, encoding: 'utf8', timeout: 120_000 });
        expect(output.length, `${name} README ${kind} block printed nothing`).toBeGreaterThan(0);
        ran++;
      }
    }
    expect(ran).toBeGreaterThanOrEqual(2);
  });
});
