import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.base';

export default defineConfig(
  // the browser playground is bundled by esbuild into dist/playground after the CLI itself
  packageConfig({
    entry: ['src/bin.ts', 'src/index.ts'],
    platform: 'node',
    splitting: true,
    onSuccess: 'node scripts/build-playground.mjs',
  }),
);
