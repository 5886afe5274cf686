import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The repository root (where `package.json` with the workspaces lives). */
export function repoRootDir(): string {
  return repoRoot;
}

/**
 * Absolute path of a file or folder in `../shared` (beside the repository), or `undefined` when it
 * is absent. With `CI=true`, absence throws: CI must never silently skip the real-data tests.
 */
export function sharedPath(...parts: string[]): string | undefined {
  const base = process.env.MOCO_ROBUST_SHARED ?? join(repoRoot, '..', 'shared');
  const path = join(base, ...parts);
  if (existsSync(path)) return path;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    throw new Error(
      `Required shared data is missing in CI: ${path} (set ` +
        `MOCO_ROBUST_SHARED or place ../shared beside the repository).`,
    );
  }
  return undefined;
}

/** Folder of the real CIFAR-10 sample (`cifar-10-batches-bin`), or undefined outside CI when absent. */
export function cifarSampleDir(): string | undefined {
  return sharedPath('datasets', 'cifar10-sample', 'cifar-10-batches-bin');
}

/** Folder of the CIFAR-10-C reference vectors, or undefined outside CI when absent. */
export function cifar10cReferenceDir(): string | undefined {
  return sharedPath('reference', 'cifar10c');
}

/**
 * Path of a Node `--import` hook that makes the packages listed in `MOCO_ROBUST_HIDE_MODULES`
 * (comma-separated) unresolvable, as if not installed — for child-process tests.
 */
export function hideModulesHook(): string {
  return join(repoRoot, 'packages', 'testing', 'fixtures', 'hide-modules.mjs');
}
