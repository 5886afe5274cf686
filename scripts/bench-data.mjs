#!/usr/bin/env node
// The data section of `npm run bench` (also runnable alone: `node scripts/bench-data.mjs`): CIFAR-10-C
// generator images/s per corruption (all 5 severities of each image) in this thread and on worker
// threads, and the MoCo-v2 two-view augmentation of a batch of 128 on every backend that loads, each
// backend in its own process. Real CIFAR-10 images from ../shared when present, seeded noise otherwise.
// Flags: --tiny (few images: proves the harness works), --json, --backends node,wasm,cpu,
// --images N (default 1000), --workers N (default os.availableParallelism()).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.MOCO_ROBUST_SHARED ?? join(root, '..', 'shared');
const sampleFile = join(shared, 'datasets', 'cifar10-sample', 'cifar-10-batches-bin', 'data_batch_1.bin');
const frostDir = join(shared, 'reference', 'cifar10c', 'frost_small');
const AUGMENT_BATCH = 128;

const load = (path) => import(pathToFileURL(join(root, path)).href);

/** `count` uint8 HWC 32×32 images: the sample's first training records, or seeded noise without ../shared. */
function benchmarkImages(count) {
  const images = new Uint8Array(count * 3072);
  if (existsSync(sampleFile)) {
    const bytes = readFileSync(sampleFile);
    const available = Math.floor(bytes.length / 3073);
    for (let n = 0; n < count; n++) {
      const record = (n % available) * 3073 + 1;
      for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) images[n * 3072 + p * 3 + c] = bytes[record + c * 1024 + p];
    }
    return { images, source: 'CIFAR-10 sample (data_batch_1)' };
  }
  let state = 12345;
  for (let i = 0; i < images.length; i++) images[i] = (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
  return { images, source: 'seeded noise (../shared absent)' };
}

/** Runs a generator over every corruption and returns images/s per corruption (from its block events) and overall. */
async function timeGenerator(run, count) {
  const seconds = {};
  const started = performance.now();
  await run((event) => {
    if (event.type === 'corruption-end') seconds[event.corruption] = (seconds[event.corruption] ?? 0) + event.seconds;
  });
  const total = (performance.now() - started) / 1000;
  const perCorruption = Object.fromEntries(Object.entries(seconds).map(([name, s]) => [name, count / s]));
  return { perCorruption, overall: count / total };
}

/** Single-threaded and worker-thread CIFAR-10-C generation of `count` images (all corruptions × 5 severities). */
async function benchmarkCorruptions(count, workers) {
  const data = await load('packages/data/dist/index.node.js');
  const frostTextures = existsSync(frostDir) ? await data.loadFrostTextures(frostDir) : undefined;
  const { images, source } = benchmarkImages(count);
  const options = { seed: 1, frostTextures };
  const single = await timeGenerator(async (onEvent) => {
    for (const block of data.corruptImages(images, count, { ...options, onEvent })) void block;
  }, count);
  const parallel = await timeGenerator(async (onEvent) => {
    for await (const block of data.corruptImagesParallel(images, count, { ...options, workers, onEvent })) void block;
  }, count);
  return { images: count, source, workers, frost: frostTextures !== undefined, single, parallel };
}

/** In a child process: images/s of `twoViews(batch, MOCO_V2_AUGMENTATION)` on one backend (median of `repeats` after a warm-up). */
async function benchmarkAugmentation(backend, batch, repeats) {
  const core = await load('packages/core/dist/index.node.js');
  const data = await load('packages/data/dist/index.node.js');
  const tf = await import('@tensorflow/tfjs-core');
  await core.selectBackend({ backend });
  const { images } = benchmarkImages(batch);
  const x = tf.tidy(() => tf.div(tf.tensor4d(images, [batch, 32, 32, 3], 'float32'), 255));
  const rng = core.Rng.fromSeed(7);
  const once = async () => {
    const start = performance.now();
    const views = data.twoViews(x, data.MOCO_V2_AUGMENTATION, rng);
    await Promise.all(views.map((view) => view.data()));
    views.forEach((view) => view.dispose());
    return (performance.now() - start) / 1000;
  };
  await once();
  const times = [];
  for (let r = 0; r < repeats; r++) times.push(await once());
  times.sort((a, b) => a - b);
  x.dispose();
  return { batch, imagesPerSecond: batch / times[Math.floor(times.length / 2)] };
}

/** The data benchmark: corruption generation here, augmentation per backend in child processes. */
export async function benchmarkData({ tiny = false, backends = ['node', 'wasm', 'cpu'], images, workers } = {}) {
  const corruptions = await benchmarkCorruptions(images ?? (tiny ? 8 : 1000), workers ?? (tiny ? 2 : availableParallelism()));
  const augmentation = [];
  for (const backend of backends) {
    const args = [fileURLToPath(import.meta.url), '--child', backend, ...(tiny ? ['--tiny'] : [])];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, maxBuffer: 1 << 24 });
    if (run.status !== 0) {
      const lines = run.stderr.trim().split('\n');
      augmentation.push({ backend, error: (lines.filter((l) => /Error|error/.test(l))[0] ?? lines.pop() ?? 'failed').slice(0, 200) });
      continue;
    }
    augmentation.push({ backend, ...JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) });
  }
  return { corruptions, augmentation };
}

const fmt = (v) => (typeof v === 'number' ? (v < 10 ? v.toFixed(1) : v.toFixed(0)) : 'n/a');

/** Markdown tables of a {@link benchmarkData} result. */
export function formatDataTables({ corruptions, augmentation }) {
  const { single, parallel } = corruptions;
  const lines = [
    `CIFAR-10-C generator, ${corruptions.images} images (${corruptions.source}), images/s with all 5 severities of each image; ${corruptions.workers} workers${corruptions.frost ? '' : '; frost skipped (no textures)'}:`,
    '',
    '| corruption | 1 thread img/s | workers img/s |',
    '|---|---:|---:|',
    ...Object.keys(single.perCorruption).map((name) => `| ${name} | ${fmt(single.perCorruption[name])} | ${fmt(parallel.perCorruption[name])} |`),
    `| **all corruptions** | **${fmt(single.overall)}** | **${fmt(parallel.overall)}** |`,
    '',
    `MoCo-v2 two-view augmentation (twoViews, MOCO_V2_AUGMENTATION), batch ${augmentation.find((a) => a.batch)?.batch ?? AUGMENT_BATCH}:`,
    '',
    '| backend | images/s |',
    '|---|---:|',
    ...augmentation.map((a) => `| ${a.backend} | ${a.error ? `failed: ${a.error}` : fmt(a.imagesPerSecond)} |`),
  ];
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' }, tiny: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
      backends: { type: 'string', default: 'node,wasm,cpu' }, images: { type: 'string' }, workers: { type: 'string' },
    },
  });
  if (values.child) {
    process.stdout.write(JSON.stringify(await benchmarkAugmentation(values.child, values.tiny ? 8 : AUGMENT_BATCH, values.tiny ? 1 : 5)));
    process.exit(0);
  }
  const result = await benchmarkData({
    tiny: values.tiny, backends: values.backends.split(','),
    images: values.images === undefined ? undefined : Number(values.images), workers: values.workers === undefined ? undefined : Number(values.workers),
  });
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatDataTables(result));
}
