import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.base';

// Node only: loadSample reads the CIFAR-10 files from disk.
export default defineConfig(packageConfig({ platform: 'node' }));
