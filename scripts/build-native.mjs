#!/usr/bin/env node
// Builds @tensorflow/tfjs-node(-gpu) against the TensorFlow C library of a pip wheel (buildNativeBackend
// in @moco-robust/core's Node entry; `npm run native:build` builds core first). Progress goes to stderr
// as plain lines; a failure prints its cause and exits 1.
// Usage: node scripts/build-native.mjs [--variant cpu|gpu] [--tensorflow-version 2.21.0] [--wheel path]
//        [--project-dir dir (default: the repository)] [--cache-dir dir] [--python python3] [--force]
import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fail = (message) => {
  process.stderr.write(`native backend build failed: ${message}\n`);
  process.exit(1);
};

let values;
try {
  ({ values } = parseArgs({
    options: {
      variant: { type: 'string', default: 'cpu' },
      'tensorflow-version': { type: 'string' },
      wheel: { type: 'string' },
      'project-dir': { type: 'string', default: root },
      'cache-dir': { type: 'string' },
      python: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  fail(
    `${error.message} (flags: --variant cpu|gpu, --tensorflow-version, ` +
      `--wheel, --project-dir, --cache-dir, --python, --force)`,
  );
}

const core = await import(pathToFileURL(join(root, 'packages/core/dist/index.node.js')).href).catch((error) =>
  fail(
    `cannot load @moco-robust/core's build (${error.message}); ` +
      `run \`npx turbo run build --filter=@moco-robust/core\` first`,
  ),
);
const started = Date.now();
try {
  const result = await core.buildNativeBackend(
    {
      variant: values.variant,
      tensorflowVersion: values['tensorflow-version'],
      wheel: values.wheel,
      projectDir: values['project-dir'],
      cacheDir: values['cache-dir'],
      python: values.python,
      force: values.force,
    },
    (event) =>
      process.stderr.write(
        `[native ${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s] ${event.phase}: ${event.detail}\n`,
      ),
  );
  process.stderr.write(
    `native backend ready in ${result.seconds.toFixed(1)} s: ${result.packageDir} ` +
      `(TensorFlow ${result.tensorflowVersion}, ${result.variant})\n`,
  );
} catch (error) {
  // the message is "what failed\n<the command's output>\n<what to install>": output first, then one cause line
  const [first, ...details] = String(error?.message ?? error).split('\n');
  const hint = details.length > 0 ? details.pop() : '';
  if (details.length > 0) process.stderr.write(`${details.join('\n')}\n`);
  fail(hint ? `${first} — ${hint}` : first);
}
