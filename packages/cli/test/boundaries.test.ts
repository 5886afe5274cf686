import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');
const script = join(root, 'scripts', 'check-boundaries.mjs');
type Check = (
  files: Array<{ path: string; text: string }>,
  manifests: Record<string, { dependencies?: object; peerDependencies?: object; devDependencies?: object }>,
) => string[];

describe('import boundaries (scripts/check-boundaries.mjs, run by npm run lint)', () => {
  it('the repository has none across a boundary', () => {
    const run = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('reports an import of a higher or same layer, an undeclared package and test support in src', async () => {
    const { boundaryViolations } = (await import(script)) as { boundaryViolations: Check };
    const manifests = {
      core: {},
      attacks: { dependencies: { '@moco-robust/core': '0.0.0' }, devDependencies: { '@moco-robust/models': '0.0.0' } },
      eval: { dependencies: { '@moco-robust/core': '0.0.0', '@moco-robust/attacks': '0.0.0' } },
    };
    const file = (path: string, text: string) => ({ path, text });
    const problems = boundaryViolations(
      [
        file('packages/core/src/a.ts', "import { pgd } from '@moco-robust/attacks';"), // up the layers
        file('packages/eval/src/b.ts', "const m = await import('@moco-robust/moco');"), // same layer
        file('packages/eval/src/c.ts', "\n\nexport { x } from '@moco-robust/data/node';"), // not declared
        file('packages/attacks/src/d.ts', "import { useBackend } from '@moco-robust/testing';"), // test support
        file('packages/attacks/src/e.ts', "import { tinyResnet } from '@moco-robust/models';"), // a dev dependency
        // allowed: a lower declared layer, a test's dev dependency, test support in tests, the package itself
        file('packages/eval/src/f.ts', "import { pgd } from '@moco-robust/attacks';"),
        file('packages/attacks/test/g.test.ts', "import { tinyResnet } from '@moco-robust/models';"),
        file('packages/attacks/src/h.test.ts', "import { useBackend } from '@moco-robust/testing';"),
        file('packages/core/src/i.ts', "import { Rng } from '@moco-robust/core';"),
      ],
      manifests,
    );
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(
      /^packages\/core\/src\/a\.ts:1: .*imports @moco-robust\/attacks, which is not below it/,
    );
    expect(problems[1]).toMatch(/^packages\/eval\/src\/b\.ts:1: .*imports @moco-robust\/moco, which is not below it/);
    expect(problems[2]).toMatch(/^packages\/eval\/src\/c\.ts:3: .*@moco-robust\/data without declaring it/);
    expect(problems[3]).toMatch(/^packages\/attacks\/src\/d\.ts:1: .*which is test support \(tests only\)/);
    expect(problems[4]).toMatch(
      /^packages\/attacks\/src\/e\.ts:1: .*@moco-robust\/models without declaring it in its dep/,
    );
  });
});
