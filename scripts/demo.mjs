#!/usr/bin/env node
// `npm run demo`: runs `moco-robust demo` with the CIFAR-10 sample (and the frost textures) in ../shared when
// MOCO_ROBUST_DATA (MOCO_ROBUST_FROST) is not set and they are there (otherwise the CLI looks in its cache and says
// what to do).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sample = join(root, '..', 'shared', 'datasets', 'cifar10-sample');
const frost = join(root, '..', 'shared', 'reference', 'cifar10c', 'frost_small');
const env = { ...process.env };
if (!env.MOCO_ROBUST_DATA && existsSync(sample)) env.MOCO_ROBUST_DATA = sample;
// the original generator's frost textures (without them frost is skipped and the report says so)
if (!env.MOCO_ROBUST_FROST && existsSync(frost)) env.MOCO_ROBUST_FROST = frost;
// The native backend makes the demo minutes instead of tens of minutes: build it when it does not load
// (≈30 s: pip wheel + node-gyp); if that fails the demo still runs, on wasm.
const nativeLoads =
  spawnSync(process.execPath, ['--input-type=module', '-e', "await import('@tensorflow/tfjs-node')"], {
    cwd: root,
    stdio: 'ignore',
  }).status === 0;
if (!nativeLoads && !env.MOCO_ROBUST_BACKEND) {
  process.stderr.write(
    'demo: the native backend is not built; building it from the tensorflow-cpu wheel (npm run native:build)…\n',
  );
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { stdio: 'inherit', env });
  if (build.status !== 0)
    process.stderr.write('demo: the native backend could not be built; continuing on the wasm backend (slower).\n');
}
const result = spawnSync(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'demo', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
