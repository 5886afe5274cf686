import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { chromiumPath, useBackend, withHeadlessChromium } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierHead, composeModels } from './heads';
import { saveModel } from './node/save-model';
import { createResnetEncoder } from './resnet';

const require = createRequire(import.meta.url);
const umd = (pkg: string, file: string) =>
  readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', file));

const chromium = chromiumPath(); // throws in CI when Chromium is missing
if (!chromium)
  console.warn(
    '\n*** SKIPPED: the browser test of saved models needs Chromium ' +
      '(apt-get install -y chromium); it is required in CI ***\n',
  );

describe.skipIf(!chromium)('a saved model loads in a real browser with plain tf.loadLayersModel', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('headless Chromium predicts what Node predicts, from the tfjs UMD bundles and no project code', async () => {
    const encoder = createResnetEncoder({ architecture: 'resnet6-w8', rng: 3, batchNormGroups: 2 });
    const model = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 4 }));
    // non-default moving statistics
    tf.tidy(() => model.apply(tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 5), { training: true }) as tf.Tensor);
    const directory = mkdtempSync(join(tmpdir(), 'models-browser-'));
    await saveModel(model, directory);
    const files = {
      model: readFileSync(join(directory, 'model.json')),
      weights: readFileSync(join(directory, 'weights.bin')),
    };
    rmSync(directory, { recursive: true, force: true });
    const input = tf.tidy(() =>
      tf.div(tf.reshape(tf.range(0, 2 * 32 * 32 * 3), [2, 32, 32, 3]), 2 * 32 * 32 * 3),
    ) as tf.Tensor4D;
    const expected = Array.from((model.predict(input) as tf.Tensor).dataSync());
    const page = `<!doctype html><html><body>
<script src="/tf-core.min.js"></script>
<script src="/tf-backend-cpu.min.js"></script>
<script src="/tf-layers.min.js"></script>
<script>
(async () => {
  try {
    await tf.setBackend('cpu');
    const model = await tf.loadLayersModel('/model/model.json');
    const x = tf.div(tf.reshape(tf.range(0, 2 * 32 * 32 * 3), [2, 32, 32, 3]), 2 * 32 * 32 * 3);
    const y = Array.from(model.predict(x).dataSync());
    const layers = model.layers.map((l) => l.getClassName());
    await fetch('/result', { method: 'POST', body: JSON.stringify({ ok: true, y, layers }) });
  } catch (error) {
    const message = String((error && error.stack) || error);
    await fetch('/result', { method: 'POST', body: JSON.stringify({ ok: false, error: message }) });
  }
})();
</script></body></html>`;
    const routes: Record<string, Buffer | string> = {
      '/': page,
      '/tf-core.min.js': umd('@tensorflow/tfjs-core', 'tf-core.min.js'),
      '/tf-backend-cpu.min.js': umd('@tensorflow/tfjs-backend-cpu', 'tf-backend-cpu.min.js'),
      '/tf-layers.min.js': umd('@tensorflow/tfjs-layers', 'tf-layers.min.js'),
      '/model/model.json': files.model,
      '/model/weights.bin': files.weights,
    };
    let deliver: (value: { ok: boolean; y?: number[]; error?: string; layers?: string[] }) => void = () => {};
    const result = new Promise<{ ok: boolean; y?: number[]; error?: string; layers?: string[] }>(
      (resolve) => (deliver = resolve),
    );
    const server = createServer((request, response) => {
      if (request.method === 'POST' && request.url === '/result') {
        let body = '';
        request.on('data', (chunk) => (body += chunk));
        request.on('end', () => {
          response.end('ok');
          deliver(JSON.parse(body));
        });
        return;
      }
      const content = routes[request.url ?? ''];
      if (content === undefined) return void response.writeHead(404).end();
      response.setHeader(
        'content-type',
        request.url === '/'
          ? 'text/html'
          : request.url!.endsWith('.json')
            ? 'application/json'
            : request.url!.endsWith('.js')
              ? 'text/javascript'
              : 'application/octet-stream',
      );
      response.end(content);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const browser = await withHeadlessChromium(`http://127.0.0.1:${port}/`, result);
      expect(browser.ok, browser.error).toBe(true);
      expect(browser.y!.length).toBe(expected.length);
      browser.y!.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-4));
      expect(browser.layers).toContain('BatchNormalization');
    } finally {
      server.close();
    }
  });
});
