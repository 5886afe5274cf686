import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRootDir } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';

// Every published entry point's runtime export names, from the built dist as a user imports them. A new export
// changes __snapshots__/public-api.test.ts.snap (so it shows up in review: update with `vitest run -u`), and an
// entry past its cap fails until the cap below is raised on purpose: a package's public API should stay what a
// newcomer reads in one screen (internals are not exported; benchmark harnesses live behind `/bench`).
const repo = repoRootDir();
const require = createRequire(import.meta.url);

/** The most runtime names each package's main entry may export (its Node entry where it has one). */
const MAX_EXPORTS: Record<string, number> = {
  core: 50,
  attacks: 35,
  models: 20,
  data: 50,
  eval: 40,
  moco: 25,
  'pretext-jigsaw': 12,
  'pretext-rocl': 8,
  'pretext-rotation': 8,
  'pretext-selfie': 16,
  'pretext-testkit': 12,
};
const SUBPATHS = ['core/bench', 'models/bench', 'moco/bench', 'core/constants', 'attacks/constants', 'data/constants'];
/** Packages whose `node` export condition adds to a browser-safe entry (dist/index.js). */
const BROWSER_ENTRIES = ['core', 'models', 'data', 'eval'];

const names = (module: object): string[] =>
  Object.keys(module)
    .filter((name) => name !== '__esModule')
    .sort();

describe('public API', () => {
  it.each(Object.keys(MAX_EXPORTS))('@moco-robust/%s: export names as snapshotted, within the cap', async (pkg) => {
    const esm = names(await import(`@moco-robust/${pkg}`));
    expect(esm).toMatchSnapshot();
    expect(esm.length, `@moco-robust/${pkg} exports ${esm.length} names (cap ${MAX_EXPORTS[pkg]})`).toBeLessThanOrEqual(
      MAX_EXPORTS[pkg]!,
    );
    expect(names(require(`@moco-robust/${pkg}`)), 'CommonJS exports the same names').toEqual(esm);
  });

  it.each(SUBPATHS)('@moco-robust/%s: export names as snapshotted', async (subpath) => {
    const esm = names(await import(`@moco-robust/${subpath}`));
    expect(esm).toMatchSnapshot();
    expect(names(require(`@moco-robust/${subpath}`))).toEqual(esm);
  });

  it.each(BROWSER_ENTRIES)('@moco-robust/%s browser entry: a subset of the Node entry, as snapshotted', async (pkg) => {
    const file = join(repo, 'packages', pkg, 'dist', 'index.js');
    expect(existsSync(file), `${file} (build the package first)`).toBe(true);
    const browser = names(await import(pathToFileURL(file).href));
    expect(browser).toMatchSnapshot();
    const node = names(await import(`@moco-robust/${pkg}`));
    expect(browser.filter((name) => !node.includes(name))).toEqual([]);
  });
});
