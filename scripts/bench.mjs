#!/usr/bin/env node
// `npm run bench [-- flags]`: runs `moco-robust bench` (packages/cli/src/commands/bench.ts) with the CIFAR-10
// sample and frost textures from ../shared when MOCO_ROBUST_DATA / MOCO_ROBUST_FROST are not set.
// `npm run bench -- --compare-torch` runs the PyTorch reference (../shared/bench/torch_ref.py) in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = join(root, '..', 'shared');
const env = { ...process.env };
if (!env.MOCO_ROBUST_DATA && existsSync(join(shared, 'datasets', 'cifar10-sample')))
  env.MOCO_ROBUST_DATA = join(shared, 'datasets', 'cifar10-sample');
if (!env.MOCO_ROBUST_FROST && existsSync(join(shared, 'reference', 'cifar10c', 'frost_small')))
  env.MOCO_ROBUST_FROST = join(shared, 'reference', 'cifar10c', 'frost_small');
const args = process.argv.slice(2);
if (!args.some((a) => a.startsWith('--torch-script')))
  args.push('--torch-script', join(shared, 'bench', 'torch_ref.py'));
const result = spawnSync(
  process.execPath,
  [join(root, 'packages/cli/dist/bin.js'), 'bench', '--out', join(root, 'bench-results'), ...args],
  { stdio: 'inherit', env, cwd: root },
);
process.exit(result.status ?? 1);
