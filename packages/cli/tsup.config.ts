import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.base';

export default defineConfig(
  packageConfig({ entry: ['src/bin.ts', 'src/index.ts'], platform: 'node', splitting: true }),
);
