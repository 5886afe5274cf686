// Bundles the browser playground (packages/cli/playground) into dist/playground with esbuild; run after tsup.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(packageDir, 'playground');
const out = join(packageDir, 'dist', 'playground');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(source, 'main.ts')],
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(join(source, file), join(out, file));
const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')), '..');
for (const file of readdirSync(join(wasmDir, 'dist')).filter((f) => f.endsWith('.wasm')))
  copyFileSync(join(wasmDir, 'dist', file), join(out, file));
const sizes = readdirSync(out).map((f) => [f, statSync(join(out, f)).size]);
const total = (pattern) => sizes.filter(([f]) => pattern.test(f)).reduce((sum, [, s]) => sum + s, 0);
console.log(
  `playground: ${(total(/\.js$/) / 1024).toFixed(0)} KiB JavaScript ` +
    `(${sizes.filter(([f]) => f.endsWith('.js')).length} files), ` +
    `${(total(/\.wasm$/) / 1024).toFixed(0)} KiB wasm → ${out}`,
);
