#!/usr/bin/env node
// The package graph's import boundaries (docs/architecture.md, "Packages"): a package's source imports only packages
// of a lower layer, and only those it declares as dependencies or peer dependencies; tests may also import their
// package's dev dependencies. `npm run lint` runs it; packages/cli/test/boundaries.test.ts checks that it reports
// each kind of violation. Biome's `noRestrictedImports` keeps test support (@moco-robust/testing, vitest) out of src.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The layers, lowest first: a package may import the packages of the layers before its own, never its own layer's
 * or a later one's. `testing` is the private test support (tests only), the CLI loads plugins by name at run time.
 */
export const LAYERS = [
  ['core'],
  ['models', 'data'],
  ['attacks'],
  ['moco', 'eval'],
  ['pretext-testkit'],
  ['pretext-jigsaw', 'pretext-rocl', 'pretext-rotation', 'pretext-selfie'],
  ['cli'],
];
const TEST_ONLY = new Set(['testing']);

const layerOf = new Map(LAYERS.flatMap((names, layer) => names.map((name) => [name, layer])));
const isTest = (file) => /\.test\.ts$|\/test-helpers\/|^packages\/[^/]+\/test\//.test(file);
const IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]@moco-robust\/([a-z0-9-]+)[^'"]*['"]/g;

/**
 * The boundary violations of `files` ({ path: 'packages/<pkg>/…', text }) given each package's manifest
 * (`manifests[pkg]` = its package.json object): one line per import that crosses a boundary.
 */
export function boundaryViolations(files, manifests) {
  const problems = [];
  for (const { path, text } of files) {
    const owner = /^packages\/([^/]+)\//.exec(path)?.[1];
    if (!owner || TEST_ONLY.has(owner)) continue;
    const manifest = manifests[owner] ?? {};
    const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }));
    const dev = new Set(Object.keys(manifest.devDependencies ?? {}));
    const test = isTest(path);
    for (const match of text.matchAll(IMPORT)) {
      const target = match[1];
      if (target === owner) continue;
      const line = text.slice(0, match.index).split('\n').length;
      const at = `${path}:${line}: @moco-robust/${owner} imports @moco-robust/${target}`;
      if (TEST_ONLY.has(target)) {
        if (!test) problems.push(`${at}, which is test support (tests only)`);
        continue;
      }
      if (!layerOf.has(owner) || !layerOf.has(target)) {
        problems.push(`${at}: ${layerOf.has(owner) ? target : owner} has no layer in scripts/check-boundaries.mjs`);
        continue;
      }
      if (layerOf.get(target) >= layerOf.get(owner))
        problems.push(`${at}, which is not below it (layers: ${LAYERS.map((l) => l.join(' ')).join(' < ')})`);
      else if (!declared.has(`@moco-robust/${target}`) && !(test && dev.has(`@moco-robust/${target}`)))
        problems.push(`${at} without declaring it in ${test ? 'its (dev) dependencies' : 'its dependencies'}`);
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const paths = execFileSync('git', ['ls-files', '-z', '--', 'packages/*/src/**.ts', 'packages/*/test/**.ts'], {
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  const manifests = Object.fromEntries(
    [...new Set(paths.map((p) => p.split('/')[1]))].map((pkg) => [
      pkg,
      JSON.parse(readFileSync(`packages/${pkg}/package.json`, 'utf8')),
    ]),
  );
  const problems = boundaryViolations(
    paths.map((path) => ({ path, text: readFileSync(path, 'utf8') })),
    manifests,
  );
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} import(s) across a package boundary:\n${problems.join('\n')}\n`);
    process.exit(1);
  }
}
