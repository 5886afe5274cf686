import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { repoRootDir } from '@moco-robust/testing';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlocks } from './readme-blocks';

// The attacks README's browser example as a user ships it: bundled by esbuild from the packages' browser entries
// (@moco-robust/core, models, attacks and tfjs, resolved through their `exports` maps as a project's node_modules
// would), served from 127.0.0.1 and run in Debian's Chromium. The packed tarballs themselves are checked by
// registry.test.ts; this checks what a bundler makes of them.
const repo = repoRootDir();
const CHROMIUM = '/usr/bin/chromium';
const ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'];
const EPSILON = 8 / 255;
/**
 * A browser without a GPU: `--disable-gpu` alone still gives WebGL through SwiftShader, which compiles every shader on
 * the CPU (~50 s for this example); without the software rasterizer neither WebGL nor WebGPU can start.
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-software-rasterizer',
  '--disable-background-networking',
];

/** The pages: the README example, then a forced wasm start; and selectBackend where the `.wasm` files are missing. */
const PAGES: Record<string, string> = {
  'readme-page.js': [
    "import { selectBackend } from '@moco-robust/core';",
    'const report = (key, value) => { document.body.dataset[key] = JSON.stringify(value); };',
    'try {',
    "  await import('./readme-example.js');",
    '  // wasm is reachable from the bundle whichever backend the example chose',
    "  report('wasm', await selectBackend({ backend: 'wasm' }).then((s) => ({ ok: true, name: s.name })));",
    "  report('state', 'done');",
    '} catch (error) {',
    "  report('error', String(error?.stack ?? error));",
    '}',
  ].join('\n'),
  'wasm-missing-page.js': [
    "import { selectBackend } from '@moco-robust/core';",
    'const report = (key, value) => { document.body.dataset[key] = JSON.stringify(value); };',
    'try {',
    "  report('selection', await selectBackend({ candidates: ['wasm', 'cpu'] }));",
    "  report('forcedMessage', (await selectBackend({ backend: 'wasm' }).catch((e) => e)).message);",
    "  report('state', 'done');",
    '} catch (error) {',
    "  report('error', String(error?.stack ?? error));",
    '}',
  ].join('\n'),
};

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

describe('the attacks README example in a browser bundle (esbuild, Chromium)', () => {
  let work = '';
  let server: Server | undefined;
  let browser: Browser | undefined;
  let url = '';
  const outside: string[] = [];

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
    const example = readmeBlocks(join(repo, 'packages/attacks/README.md')).get('browser');
    expect(example, 'the attacks README has a `readme-test: browser` block').toBeDefined();
    work = mkdtempSync(join(tmpdir(), 'mr-browser-bundle-'));
    const source = join(work, 'src');
    const out = join(work, 'www');
    mkdirSync(source);
    writeFileSync(join(source, 'readme-example.js'), example ?? '');
    for (const [file, code] of Object.entries(PAGES)) writeFileSync(join(source, file), `${code}\n`);
    await build({
      entryPoints: Object.keys(PAGES).map((file) => join(source, file)),
      // the workspace's node_modules, where @moco-robust/* link to the built packages
      nodePaths: [join(repo, 'node_modules')],
      outdir: out,
      entryNames: '[name]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'error',
    });
    // the user's copy step: the wasm backend's binaries beside the page
    const wasmDist = join(
      createRequire(join(repo, 'package.json')).resolve('@tensorflow/tfjs-backend-wasm/package.json'),
      '..',
      'dist',
    );
    for (const file of readdirSync(wasmDist).filter((f) => f.endsWith('.wasm')))
      copyFileSync(join(wasmDist, file), join(out, file));
    const html = (script: string) =>
      `<!doctype html><meta charset="utf-8"><script type="module" src="${script}"></script>`;
    writeFileSync(join(out, 'index.html'), html('readme-page.js'));
    writeFileSync(join(out, 'wasm-missing.html'), html('wasm-missing-page.js'));

    // `/` serves the bundle; `/no-wasm/` the same files but the .wasm binaries (a page whose copy step was forgotten)
    server = createServer((request, response) => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
      const withoutWasm = path.startsWith('/no-wasm/');
      const name = (withoutWasm ? path.slice('/no-wasm'.length) : path).replace(/^\/+/, '') || 'index.html';
      const file = join(out, name);
      if (name.includes('..') || !existsSync(file) || (withoutWasm && name.endsWith('.wasm'))) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream' });
      response.end(readFileSync(file));
    });
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Opens a page, waits for its module to finish and returns its report and the lines it logged. */
  async function open(path: string): Promise<{ data: Record<string, unknown>; logs: string[] }> {
    const page = await browser!.newPage();
    const logs: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'log') logs.push(message.text());
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(url) && !/^(blob|data):/.test(request.url())) outside.push(request.url());
    });
    await page.goto(`${url}${path}`);
    await page.waitForFunction(() => document.body?.dataset.state || document.body?.dataset.error, null, {
      timeout: 120_000,
    });
    const dataset = await page.evaluate(() => ({ ...document.body.dataset }));
    await page.close();
    const data = Object.fromEntries(Object.entries(dataset).map(([key, value]) => [key, JSON.parse(value ?? 'null')]));
    return { data, logs };
  }

  it('picks a backend in webgpu → webgl → wasm → cpu order, says why it skipped each, runs PGD-10', async () => {
    const { data, logs } = await open('index.html');
    expect(data.error, logs.join('\n')).toBeUndefined();
    const chosen = /^backend: (\w+)$/.exec(logs.find((line) => line.startsWith('backend: ')) ?? '')?.[1] ?? '';
    expect(ORDER, logs.join('\n')).toContain(chosen);
    const skipped = logs.flatMap((line) => {
      const match = /^skipped (\w+): (.+)$/.exec(line);
      return match ? [{ name: match[1], reason: match[2] }] : [];
    });
    // everything before the chosen backend was tried and skipped, with the cause tfjs only logs to the console
    expect(skipped.map((s) => s.name)).toEqual(ORDER.slice(0, ORDER.indexOf(chosen)));
    const because: Record<string, RegExp> = { webgpu: /WebGPU/, webgl: /WebGL/, wasm: /\.wasm/ };
    for (const { name, reason } of skipped) {
      expect(reason, name).toMatch(because[name]);
      expect(reason, name).not.toMatch(/failed to initialise/);
    }

    const accuracies = /^clean accuracy ([\d.]+), PGD-10 accuracy ([\d.]+)$/.exec(
      logs.find((l) => l.startsWith('clean')) ?? '',
    );
    expect(accuracies, logs.join('\n')).not.toBeNull();
    const [clean, robust] = [Number(accuracies![1]), Number(accuracies![2])];
    expect(clean).toBe(1); // the labels are the model's own predictions
    expect(robust).toBeGreaterThanOrEqual(0);
    expect(robust).toBeLessThan(clean); // PGD-10 at 8/255 changes predictions of the untrained ResNet (all, here)
    const ball = /^max \|x_adv - x\| = ([\d.]+) \(epsilon [\d.]+\), x_adv in \[([\d.e-]+), ([\d.e-]+)\]$/.exec(
      logs.find((l) => l.startsWith('max |x_adv')) ?? '',
    );
    expect(ball, logs.join('\n')).not.toBeNull();
    const [distance, low, high] = ball!.slice(1).map(Number);
    expect(distance).toBeGreaterThan(0);
    expect(distance).toBeLessThanOrEqual(EPSILON + 1e-4);
    expect(low).toBeGreaterThanOrEqual(0);
    expect(high).toBeLessThanOrEqual(1);

    // the .wasm binaries served beside the page are found: wasm starts
    expect(data.wasm).toEqual({ ok: true, name: 'wasm' });
    expect(outside, 'the page requested something beyond 127.0.0.1').toEqual([]);
  });

  it('says the .wasm binary was not found, and where, when the page does not serve it', async () => {
    const { data } = await open('no-wasm/wasm-missing.html');
    expect(data.error).toBeUndefined();
    const selection = data.selection as { name: string; attempts: { name: string; ok: boolean; reason?: string }[] };
    expect(selection.name).toBe('cpu');
    expect(selection.attempts[0]).toMatchObject({ name: 'wasm', ok: false });
    expect(selection.attempts[0].reason).toMatch(
      new RegExp(`^the wasm binary ${url}no-wasm/tfjs-backend-wasm(-simd)?\\.wasm was not found \\(HTTP 404\\)`),
    );
    expect(selection.attempts[0].reason).toMatch(/`wasmPaths`/);
    // forced, the typed error carries the same cause and no install hint (the package is installed and loaded)
    expect(data.forcedMessage).toMatch(/could not be started: the wasm binary .* was not found \(HTTP 404\)/);
    expect(data.forcedMessage).not.toMatch(/npm install/);
    expect(outside).toEqual([]);
  });
});
