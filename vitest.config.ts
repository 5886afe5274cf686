import { existsSync, readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/** Every workspace package is a vitest project named after its folder (a new package needs no edit here). */
const packages = readdirSync('packages', { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`packages/${entry.name}/package.json`))
  .map((entry) => entry.name)
  .sort();

export default defineConfig({
  test: {
    projects: packages.map((name) => ({
      extends: true,
      test: {
        name,
        root: `packages/${name}`,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      },
    })),
    pool: 'forks',
    // learning tests train real (small) models: generous limits for a loaded 2-core CI machine
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
