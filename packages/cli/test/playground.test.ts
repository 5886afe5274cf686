import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { fgsm, mocoPgd, supervisedApgd } from '@moco-robust/attacks';
import { decodeTensorArchive, imagesFromUint8, l2Normalize, Rng, selectBackend } from '@moco-robust/core';
import { loadCifar10 } from '@moco-robust/data';
import { loadModel } from '@moco-robust/models';
import { cifarSampleDir } from '@moco-robust/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN } from './run-cli';

// The browser playground in Debian's Chromium: a model saved by the tiny demo, FGSM and MoCo-PGD on four test images
// with the cpu backend on both sides, the page's predictions against the same attacks computed here in Node.
const sample = cifarSampleDir();
const CHROMIUM = '/usr/bin/chromium';
const IMAGES = [0, 1, 2, 3];
const EPSILON = 8 / 255;
const SEED = 7;

interface Row {
  key: string;
  clean: number;
  adversarial: number;
  cleanProbabilities: number[];
  adversarialProbabilities: number[];
  cosine?: number;
}

describe.skipIf(!sample)('moco-robust playground (Chromium)', () => {
  let root = '';
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
    root = await mkdtemp(join(tmpdir(), 'mr-playground-'));
    const demo = spawnSync(
      process.execPath,
      [CLI_BIN, 'demo', '--preset', 'tiny', '--out', join(root, 'demo'), '--json'],
      {
        encoding: 'utf8',
        env: { ...process.env, MOCO_ROBUST_DATA: sample, TF_CPP_MIN_LOG_LEVEL: '3' },
      },
    );
    expect(demo.status, demo.stderr).toBe(0);
    server = spawn(process.execPath, [
      CLI_BIN,
      'playground',
      '--from',
      join(root, 'demo'),
      '--data',
      sample!,
      '--port',
      '0',
      '--json',
    ]);
    url = await new Promise<string>((done, fail) => {
      let out = '';
      server!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) done(JSON.parse(out.split('\n')[0]).url);
      });
      server!.once('exit', (code) => fail(new Error(`playground exited with ${code}`)));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:'))
        outside.push(r.url());
    });
    await page.goto(`${url}?backend=cpu`);
    await page.waitForSelector('body[data-state="ready"], body[data-state="error"]');
    expect(await page.getAttribute('body', 'data-error')).toBeNull();
    expect(outside, 'the page requested something beyond 127.0.0.1').toEqual([]);
    // the first 8 images start selected: keep 0–3
    for (let i = 4; i < 8; i++) await page.click(`#picker canvas[data-key="test/${i}"]`);
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
  });

  async function runInPage(attack: string, steps: number, stepSize: string): Promise<Row[]> {
    await page.selectOption('#attack', attack);
    await page.fill('#epsilon', '8/255');
    await page.fill('#steps', String(steps));
    await page.fill('#step-size', stepSize);
    await page.fill('#seed', String(SEED));
    await page.click('#run');
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]');
    expect(await page.getAttribute('body', 'data-error')).toBeNull();
    return page.$$eval('tr[data-testid="result"]', (rows) =>
      rows.map((row) => {
        const d = (row as HTMLElement).dataset;
        return {
          key: d.key!,
          clean: Number(d.cleanPrediction),
          adversarial: Number(d.adversarialPrediction),
          cleanProbabilities: JSON.parse(d.cleanProbabilities!),
          adversarialProbabilities: JSON.parse(d.adversarialProbabilities!),
          ...(d.cosine ? { cosine: Number(d.cosine) } : {}),
        };
      }),
    );
  }

  /** Node's side: the same images, attacks and seeds on the cpu backend, one image per batch like the page. */
  async function inNode(attack: 'fgsm' | 'apgd-ce' | 'moco-pgd', steps: number, stepSize: number): Promise<Row[]> {
    await selectBackend({ backend: 'cpu' });
    const { test } = await loadCifar10(sample!);
    const classifier = await loadModel(join(root, 'demo', 'finetune', 'model'));
    const checkpoint = join(root, 'demo', 'pretrain', 'checkpoints', readLatest(join(root, 'demo', 'pretrain')));
    const [encoder, head, keyEncoder, keyHead] = await Promise.all(
      ['encoder', 'heads/projection', 'key-encoder', 'key-heads/projection'].map((m) => loadModel(join(checkpoint, m))),
    );
    const state = JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8'));
    const [queueEntry] = decodeTensorArchive(
      { format: 'moco-robust-tensors/v1', tensors: state.taskTensors },
      new Uint8Array(readFileSync(join(checkpoint, 'queue.bin'))),
    );
    const queue = tf.tensor2d(queueEntry.data as Float32Array, queueEntry.shape as [number, number]);
    const embed = (e: tfl.LayersModel, h: tfl.LayersModel) => (x: tf.Tensor4D) =>
      h.apply(e.apply(x, { training: false }) as tf.Tensor, { training: false }) as tf.Tensor2D;
    const query = embed(encoder, head);
    const rows: Row[] = [];
    for (const i of IMAGES) {
      const x = imagesFromUint8(test.images.slice(i * 3072, (i + 1) * 3072), 1);
      const rng = Rng.fromSeed(SEED).fork(`image/test/${i}`);
      let xAdv: tf.Tensor4D;
      if (attack === 'fgsm' || attack === 'apgd-ce') {
        const y = tf.tensor1d([test.labels[i]], 'int32');
        xAdv =
          attack === 'fgsm'
            ? fgsm(classifier, x, y, { epsilon: EPSILON })
            : supervisedApgd(classifier, x, y, { epsilon: EPSILON, steps, rng });
        y.dispose();
      } else {
        const keys = tf.tidy(() => embed(keyEncoder, keyHead)(x));
        const objective = { query, keys, queue, temperature: state.taskState.temperature };
        xAdv = mocoPgd(objective, x, { epsilon: EPSILON, stepSize, steps, rng });
        keys.dispose();
      }
      const [p, q, cosine] = tf.tidy(() => [
        tf.softmax(classifier.apply(x) as tf.Tensor),
        tf.softmax(classifier.apply(xAdv) as tf.Tensor),
        tf.sum(tf.mul(l2Normalize(query(x)), l2Normalize(query(xAdv)))),
      ]);
      const [clean, adversarial] = [Array.from(await p.data()), Array.from(await q.data())];
      rows.push({
        key: `test/${i}`,
        clean: clean.indexOf(Math.max(...clean)),
        adversarial: adversarial.indexOf(Math.max(...adversarial)),
        cleanProbabilities: clean,
        adversarialProbabilities: adversarial,
        cosine: (await cosine.data())[0],
      });
      tf.dispose([x, xAdv, p, q, cosine]);
    }
    queue.dispose();
    return rows;
  }

  function expectSame(page: Row[], node: Row[], withCosine: boolean): void {
    expect(page.map((r) => r.key)).toEqual(node.map((r) => r.key));
    for (const [shown, computed] of page.map((r, i) => [r, node[i]] as const)) {
      expect(shown.clean).toBe(computed.clean);
      expect(shown.adversarial).toBe(computed.adversarial);
      for (let c = 0; c < 10; c++) {
        expect(shown.cleanProbabilities[c]).toBeCloseTo(computed.cleanProbabilities[c], 5);
        expect(shown.adversarialProbabilities[c]).toBeCloseTo(computed.adversarialProbabilities[c], 5);
      }
      if (withCosine) expect(shown.cosine).toBeCloseTo(computed.cosine!, 5);
    }
  }

  it('runs FGSM in the page with the predictions Node computes', async () => {
    expect(await page.getAttribute('body', 'data-backend')).toBe('cpu');
    const shown = await runInPage('fgsm', 1, '2/255');
    expectSame(shown, await inNode('fgsm', 1, 2 / 255), false);
    expect(await page.textContent('#summary')).toMatch(/robust accuracy \d\/4/);
  });

  it("runs AutoAttack's APGD-CE in the page with the predictions Node computes", async () => {
    const shown = await runInPage('apgd-ce', 5, '2/255');
    expectSame(shown, await inNode('apgd-ce', 5, 2 / 255), false);
  });

  it('runs the label-free MoCo-PGD in the page with the predictions Node computes, and screenshots it', async () => {
    const shown = await runInPage('moco-pgd', 3, '2/255');
    expect(shown.every((r) => r.cosine !== undefined && r.cosine < 1)).toBe(true);
    expectSame(shown, await inNode('moco-pgd', 3, 2 / 255), true);
    const png = await page.screenshot({ fullPage: true });
    await writeFile(join(root, 'playground.png'), png);
    if (process.env.MOCO_ROBUST_PLAYGROUND_SCREENSHOT)
      await writeFile(process.env.MOCO_ROBUST_PLAYGROUND_SCREENSHOT, png);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('?bench measures inference and PGD images/s of the served classifier on the forced backend', async () => {
    const bench = await browser.newPage();
    try {
      await bench.goto(`${url}?backend=cpu&bench=1&batch=3&steps=2&seconds=0.01`);
      await bench.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 120_000 });
      expect(await bench.getAttribute('body', 'data-error')).toBeNull();
      const result = JSON.parse((await bench.getAttribute('body', 'data-bench'))!);
      expect(result).toMatchObject({ backend: 'cpu', batch: 3, steps: 2, leakedTensors: 0 });
      expect(result.inferenceImagesPerSecond).toBeGreaterThan(0);
      expect(result.pgdImagesPerSecond).toBeGreaterThan(0);
      expect(result.inferenceImagesPerSecond).toBeGreaterThan(result.pgdImagesPerSecond); // 1 pass vs 2 × 2 + 1
      expect(result.repetitions.inference).toBeGreaterThanOrEqual(1);
      expect(await bench.textContent('#status')).toMatch(/^bench on cpu: inference [\d.]+ images\/s, PGD-2 /);
      await bench.goto(`${url}?backend=cpu&bench=1&batch=0`);
      await bench.waitForSelector('body[data-state="error"]');
      expect(await bench.getAttribute('body', 'data-error')).toMatch(/\?batch: expected a positive integer, got '0'/);
    } finally {
      await bench.close();
    }
  });

  it("is cross-origin isolated, so wasm starts tfjs's multi-threaded build (one thread per core)", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${url}?backend=wasm`);
      await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: 120_000 });
      expect(await page.getAttribute('body', 'data-error')).toBeNull();
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await page.getAttribute('body', 'data-backend')).toBe('wasm');
      if (cpus().length > 1) {
        expect(Number(await page.getAttribute('body', 'data-threads'))).toBeGreaterThan(1);
        expect(await page.textContent('#backend')).toMatch(/^backend: wasm \(\d+ threads\)$/);
      }
    } finally {
      await page.close();
    }
  });

  it('serves only 127.0.0.1 and nothing outside its folders', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const status = (path: string) =>
      new Promise<number>((done, fail) =>
        request(`${url}${path}`, (r) => {
          r.resume();
          done(r.statusCode ?? 0);
        })
          .once('error', fail)
          .end(),
      );
    expect(await status('run/classifier/model.json')).toBe(200);
    expect(await status('run/classifier/..%2f..%2fconfig.json')).toBe(404);
    expect(await status('..%2fpackage.json')).toBe(404);
  });
});

function readLatest(run: string): string {
  return readFileSync(join(run, 'checkpoints', 'latest'), 'utf8').trim();
}
