// The browser benchmark (docs/benchmarks.md, "In the browser"): serves a run's classifier with `moco-robust
// playground`, opens the page with `?bench` in headless Chromium once per backend, and prints images/s of clean
// inference and supervised PGD-10 per backend that starts (the page's own `selectBackend`, forced with ?backend=).
// Build the CLI first; needs Debian's chromium. Never asserts a speed.
//   node packages/cli/scripts/browser-bench.mjs --from <run|model.json> --data <cifar folder>
//        [--backends webgpu,webgl,wasm,cpu] [--batch 32] [--steps 10] [--seconds 5] [--json]
// webgl runs on SwiftShader (Chromium's CPU implementation of the GPU), webgpu starts only where Chromium finds an
// adapter; a backend that does not start is listed with the page's reason.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    data: { type: 'string' },
    backends: { type: 'string', default: 'webgpu,webgl,wasm,cpu' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '5' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    json: { type: 'boolean', default: false },
  },
});
if (!values.from || !values.data) {
  process.stderr.write('browser-bench: --from <run|model.json> and --data <CIFAR-10 folder> are required\n');
  process.exit(2);
}
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
const server = spawn(
  process.execPath,
  [bin, 'playground', '--from', values.from, '--data', values.data, '--port', '0', '--json'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (chunk) => {
    out += chunk;
    if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]).url);
  });
  server.once('exit', (code) => reject(new Error(`playground exited with ${code}`)));
});

/** Chromium's flags per backend: GPU backends get SwiftShader / WebGPU switched on, the CPU ones no GPU at all. */
const flags = {
  webgpu: [
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-angle=swiftshader',
    '--enable-unsafe-swiftshader',
  ],
  webgl: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
  wasm: ['--disable-gpu'],
  cpu: ['--disable-gpu'],
};
const query = `bench=1&batch=${values.batch}&steps=${values.steps}&seconds=${values.seconds}`;
const results = [];
try {
  for (const backend of values.backends.split(',')) {
    const browser = await chromium.launch({
      executablePath: values.chromium,
      args: ['--headless', '--no-sandbox', '--disable-background-networking', ...(flags[backend] ?? [])],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${url}?backend=${backend}&${query}`);
      await page.waitForFunction(() => ['done', 'error'].includes(document.body?.dataset.state ?? ''), null, {
        timeout: 60 * 60 * 1000,
      });
      const { bench, error } = await page.evaluate(() => ({ ...document.body.dataset }));
      const result = bench ? { ...JSON.parse(bench), started: true } : { backend, started: false, reason: error };
      process.stderr.write(`browser-bench: ${JSON.stringify(result)}\n`);
      results.push(result);
    } finally {
      await browser.close();
    }
  }
} finally {
  server.kill('SIGTERM');
}

if (values.json) process.stdout.write(`${JSON.stringify(results)}\n`);
else {
  const rows = results.map((r) =>
    r.started
      ? `| ${r.backend}${r.threads > 1 ? ` (${r.threads} threads)` : ''} | ${r.batch} ` +
        `| ${r.inferenceImagesPerSecond.toFixed(1)} | ${r.pgdImagesPerSecond.toFixed(2)} |`
      : `| ${r.backend} | — | did not start: ${r.reason} | |`,
  );
  process.stdout.write(
    [`| backend | batch | inference images/s | PGD-${values.steps} images/s |`, '|---|---:|---:|---:|', ...rows].join(
      '\n',
    ) + '\n',
  );
}
