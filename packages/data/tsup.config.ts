import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.base';

// corrupt-images-worker: the worker-thread script of corruptImagesParallel, loaded beside the entries
export default defineConfig(
  packageConfig({
    entry: {
      index: 'src/index.ts',
      'index.node': 'src/index.node.ts',
      'corrupt-images-worker': 'src/cifar10c/corrupt-images-worker.ts',
    },
    splitting: true,
  }),
);
