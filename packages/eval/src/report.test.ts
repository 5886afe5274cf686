import { createServer } from 'node:http';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadFrostTextures } from '@moco-robust/data';
import {
  chromiumPath,
  writeScreenshot,
  cifar10cReferenceDir,
  readCifarSample,
  useFastestBackend,
  withHeadlessChromium,
} from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCorruptions, generatedCorruptions } from './evaluate-corruptions';
import { evaluateRobustness } from './evaluate-robustness';
import { writeReport, type WrittenReport } from './node/write-report';
import { collectExamples } from './reports/examples';
import { createRunReport, percent, type RunReport } from './reports/run-report';
import { trainedTinyClassifier } from './test-helpers/trained-tiny-classifier';

const test = readCifarSample('test_batch.bin', 128);
const reference = cifar10cReferenceDir();
const chromium = chromiumPath(); // throws in CI when missing
const PROBE = `<!doctype html><body><iframe id="report" src="/index.html" width="1280" height="2000"></iframe><script>
const frame = document.getElementById('report');
frame.addEventListener('load', async () => {
  const doc = frame.contentDocument;
  const images = [...doc.images];
  await Promise.all(images.map((img) => img.decode().catch(() => undefined)));
  const result = {
    title: doc.title,
    charts: doc.querySelectorAll('img.chart').length,
    examples: doc.querySelectorAll('img.example').length,
    broken: images.filter((img) => !(img.complete && img.naturalWidth > 0)).map((img) => img.alt),
    tables: doc.querySelectorAll('table').length,
    text: doc.body.innerText,
  };
  await fetch('/result', { method: 'POST', body: JSON.stringify(result) });
});
</script></body>`;

/** Serves `dir` and the probe page on 127.0.0.1; resolves `result` with what the probe posts. */
async function serve(dir: string) {
  let resolveResult!: (value: Record<string, unknown>) => void;
  const result = new Promise<Record<string, unknown>>((resolve) => (resolveResult = resolve));
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.svg': 'image/svg+xml',
    '.json': 'application/json',
    '.md': 'text/markdown',
  };
  const server = createServer((request, response) => {
    if (request.method === 'POST') {
      let body = '';
      request
        .on('data', (c) => (body += c))
        .on('end', () => {
          response.end();
          resolveResult(JSON.parse(body));
        });
      return;
    }
    if (request.url === '/probe') return void response.writeHead(200, { 'content-type': 'text/html' }).end(PROBE);
    const path = join(dir, normalize(decodeURIComponent(request.url ?? '/')).replace(/^(\.\.[/\\])+/, ''));
    if (!existsSync(path)) return void response.writeHead(404).end();
    response
      .writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' })
      .end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, result };
}

describe.skipIf(!test || !reference)('reports: JSON, Markdown, SVG charts and an HTML page', () => {
  let dir = '';
  let model: tfl.LayersModel;
  let runs: RunReport[] = [];
  let written: WrittenReport;
  beforeAll(async () => {
    await useFastestBackend();
    dir = mkdtempSync(join(tmpdir(), 'eval-report-'));
    model = await trainedTinyClassifier();
    const robustness = evaluateRobustness(model, test!, { settings: { pgdSteps: 5, seed: 2 } });
    const generated = generatedCorruptions(test!, {
      seed: 3,
      frostTextures: await loadFrostTextures(join(reference!, 'frost_small')),
    });
    const corruptions = await evaluateCorruptions(model, generated.blocks, { skipped: generated.skipped });
    const other = evaluateRobustness(model, test!, { settings: { pgdSteps: 2, pgdStepSize: 1 / 255, seed: 2 } });
    runs = [
      createRunReport({
        name: 'tiny (PGD-5)',
        method: 'none',
        pretrainAttack: 'none',
        model: 'tiny-conv',
        protocol: 'standard',
        robustness,
        corruptions,
        notes: ['a test run'],
      }),
      createRunReport({ name: 'tiny (weak PGD-2)', method: 'none', model: 'tiny-conv', robustness: other }),
    ];
    written = await writeReport(dir, runs, {
      title: 'Test report',
      examples: collectExamples(model, test!, { count: 6, settings: { pgdSteps: 5 } }),
    });
  });
  afterAll(() => {
    model?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes report.json, report.md, two SVG charts and index.html whose numbers are the JSON’s', () => {
    const json = JSON.parse(readFileSync(written.json, 'utf8'));
    expect(json.runs).toHaveLength(2);
    expect(json.runs[0].robustness.pgd.accuracy).toBe(runs[0].robustness!.pgd!.accuracy);
    expect(json.runs[0].corruptions.results).toHaveLength(95);
    const markdown = readFileSync(written.markdown, 'utf8');
    const html = readFileSync(written.html, 'utf8');
    const [clean, fgsm, pgd] = [runs[0].robustness!.clean, runs[0].robustness!.fgsm!, runs[0].robustness!.pgd!];
    for (const text of [markdown, html]) {
      for (const a of [clean, fgsm, pgd]) expect(text).toContain(percent(a.accuracy));
      expect(text).toContain(percent(runs[0].corruptions!.meanBenchmark));
      expect(text).toContain(percent(runs[0].corruptions!.perCorruption.zoom_blur));
      expect(text).toContain(
        percent(runs[0].corruptions!.results.find((r) => r.corruption === 'fog' && r.severity === 4)!.accuracy),
      );
      expect(text).toContain('quoted');
      expect(text).toContain(pgd.attack);
    }
    expect(markdown).toContain(`| ${pgd.attack} | ${percent(pgd.accuracy)}% | ${pgd.correct} / ${pgd.total} |`);
    expect(written.charts.map((c) => c.slice(dir.length + 1)).sort()).toEqual([
      'charts/comparison.svg',
      'charts/corruptions.svg',
    ]);
    const corruptionSvg = readFileSync(join(dir, 'charts/corruptions.svg'), 'utf8');
    expect(corruptionSvg.match(/class="bar"/g)).toHaveLength(20); // one run: 19 corruptions + the mean
    const comparisonSvg = readFileSync(join(dir, 'charts/comparison.svg'), 'utf8');
    expect(comparisonSvg).toContain(`tiny (PGD-5) · PGD: ${(100 * pgd.accuracy).toFixed(2)}%`);
    // two runs × clean/FGSM/PGD + six quoted methods × FGSM/PGD
    expect(comparisonSvg.match(/class="bar"/g)).toHaveLength(2 * 3 + 6 * 2);
  });

  it.skipIf(!chromium)(
    'renders in headless Chromium: charts and every example image load, tables and numbers show; screenshot taken',
    async () => {
      const { server, port, result } = await serve(dir);
      try {
        const page = await withHeadlessChromium(`http://127.0.0.1:${port}/probe`, result);
        expect(page.title).toBe('Test report');
        expect(page.charts).toBe(2);
        expect(page.examples).toBe(6 * 6); // clean, FGSM, PGD and three corruptions × 6 images
        expect(page.broken).toEqual([]);
        expect(page.tables as number).toBeGreaterThanOrEqual(5);
        expect(page.text as string).toContain(percent(runs[0].robustness!.pgd!.accuracy));
        const screenshot = join(dir, 'screenshot.png');
        await writeScreenshot(`http://127.0.0.1:${port}/index.html`, screenshot, { width: 1280, height: 2400 });
        const png = readFileSync(screenshot);
        expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
        expect(png.readUInt32BE(16)).toBe(1280); // IHDR width
        expect(png.length).toBeGreaterThan(50_000); // a rendered page, not a blank one
        if (process.env.MOCO_ROBUST_KEEP_SCREENSHOT) copyFileSync(screenshot, process.env.MOCO_ROBUST_KEEP_SCREENSHOT);
      } finally {
        server.close();
      }
    },
  );
});
