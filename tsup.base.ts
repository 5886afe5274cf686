import type { Options } from 'tsup';

/**
 * The one tsup configuration every package extends: ESM (`.js`, `.d.ts`) and CommonJS (`.cjs`, `.d.cts`), typed,
 * dependencies and peers external (nothing of tfjs is inlined). `shims` gives the CommonJS build `import.meta.url`.
 */
export function packageConfig(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    target: 'es2022',
    platform: 'neutral',
    dts: { compilerOptions: { composite: false, incremental: false } },
    shims: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    ...overrides,
  };
}
