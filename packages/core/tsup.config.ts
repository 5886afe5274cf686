import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.base';

export default defineConfig(
  packageConfig({
    entry: ['src/index.ts', 'src/index.node.ts', 'src/bench.ts', 'src/constants.ts', 'src/kernels.ts'],
    splitting: true,
  }),
);
