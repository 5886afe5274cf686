import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.base';

// The entries in both module formats; corrupt-images-worker (the worker-thread script of corruptImagesParallel,
// loaded as `./corrupt-images-worker.js` beside the entries from either format) is ESM only: it awaits at top level.
export default defineConfig([
  packageConfig({
    entry: { index: 'src/index.ts', 'index.node': 'src/index.node.ts', constants: 'src/constants.ts' },
    splitting: true,
  }),
  packageConfig({
    entry: { 'corrupt-images-worker': 'src/cifar10c/corrupt-images-worker.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    platform: 'node',
  }),
]);
