#!/usr/bin/env node
// `npm run bench`: conv2d forward / input-gradient / filter-gradient GFLOP/s (3×3, 64→64, 32×32, batch 32)
// and a ResNet training step in images/s, on every backend that loads, each in its own process; then
// the data section (scripts/bench-data.mjs: CIFAR-10-C generation in one thread and on workers, the
// MoCo-v2 two-view augmentation per backend). Prints tables and writes bench-results/bench-<time>.json.
// Flags: --backends node,wasm,cpu --architecture resnet18 --tiny (small shapes: proves the harness
// works, used by CI) --json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchmarkData, formatDataTables } from './bench-data.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { backends: { type: 'string', default: 'node,wasm,cpu' }, architecture: { type: 'string' }, tiny: { type: 'boolean', default: false }, child: { type: 'string' }, json: { type: 'boolean', default: false } } });

if (values.child) {
  const core = await import(join(root, 'packages/core/dist/index.node.js'));
  const models = await import(join(root, 'packages/models/dist/index.js'));
  await core.selectBackend({ backend: values.child });
  // GFLOP/s are per FLOP: the pure-JS cpu backend (≈1 GFLOP/s, minutes per standard-shape gradient) measures batch 4
  const shape = values.tiny ? { batch: 2, size: 8, inChannels: 4, outChannels: 4, kernel: 3 } : values.child === 'cpu' ? { ...core.STANDARD_CONV_SHAPE, batch: 4 } : core.STANDARD_CONV_SHAPE;
  const conv = await core.benchmarkConv2d(shape, values.tiny ? 2 : 5);
  // the pure-JS cpu backend takes minutes per ResNet-18 step: it runs the smallest ResNet only
  const architecture = values.tiny ? 'resnet6-w8' : values.architecture ?? (values.child === 'cpu' ? 'resnet8-w16' : 'resnet18');
  const resnet = await models.benchmarkResnet({ architecture, batch: values.tiny ? 4 : values.child === 'cpu' ? 8 : 32, repeats: values.tiny ? 1 : 3 });
  const attacks = values.child === 'cpu' && !values.tiny ? undefined : await benchmarkAttacks(architecture, values.tiny ? 4 : 32, values.tiny);
  process.stdout.write(JSON.stringify({ conv, resnet, attacks }));
  process.exit(0);
}

/** FGSM, PGD-10 and MoCo-PGD-10 images/s against a ResNet classifier / encoder + MoCo-v2 head (queue 4096). */
async function benchmarkAttacks(architecture, batch, tiny) {
  const tf = await import('@tensorflow/tfjs-core');
  const attacks = await import(join(root, 'packages/attacks/dist/index.js'));
  const models = await import(join(root, 'packages/models/dist/index.js'));
  const encoder = models.createResnetEncoder({ architecture, rng: 1 });
  const classifier = models.composeModels(encoder.model, models.classifierHead({ inputDim: encoder.featureDim, rng: 2 }));
  const query = models.composeModels(encoder.model, models.projectionHead({ kind: 'mlp', inputDim: encoder.featureDim, rng: 3 }));
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 4);
  const y = tf.cast(tf.randomUniform([batch], 0, 10, 'float32', 5), 'int32');
  const unit = (t) => tf.div(t, tf.norm(t, 'euclidean', 1, true));
  const keys = tf.tidy(() => unit(tf.randomNormal([batch, 128], 0, 1, 'float32', 6)));
  const queue = tf.tidy(() => unit(tf.randomNormal([tiny ? 64 : 4096, 128], 0, 1, 'float32', 7)));
  const steps = tiny ? 2 : 10;
  const time = async (run) => {
    const warm = run();
    await warm.data();
    warm.dispose();
    const start = performance.now();
    const out = run();
    await out.data();
    out.dispose();
    return (batch * 1000) / (performance.now() - start);
  };
  return {
    architecture,
    batch,
    fgsm: await time(() => attacks.fgsm(classifier, x, y)),
    [`pgd${steps}`]: await time(() => attacks.supervisedPgd(classifier, x, y, { steps, rng: 1 })),
    [`mocoPgd${steps}`]: await time(() => attacks.mocoPgd({ query, keys, queue, temperature: 0.2 }, x, { steps, rng: 2 })),
  };
}

const results = [];
for (const backend of values.backends.split(',')) {
  const args = [fileURLToPath(import.meta.url), '--child', backend, ...(values.tiny ? ['--tiny'] : []), ...(values.architecture ? ['--architecture', values.architecture] : [])];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, maxBuffer: 1 << 24 });
  if (run.status !== 0) {
    results.push({ backend, error: (run.stderr.trim().split('\n').filter((l) => /Error|error/.test(l))[0] ?? run.stderr.trim().split('\n').pop() ?? 'failed').slice(0, 200) });
    continue;
  }
  results.push({ backend, ...JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) });
}

const data = await benchmarkData({ tiny: values.tiny, backends: values.backends.split(',') });

const machine = { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, date: new Date().toISOString(), tiny: values.tiny };
const fmt = (v) => (typeof v === 'number' ? (v < 0.1 ? v.toPrecision(2) : v.toFixed(1)) : 'n/a');
const report = { machine, results, data };
mkdirSync(join(root, 'bench-results'), { recursive: true });
const file = join(root, 'bench-results', `bench-${machine.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(report, null, 2));
if (values.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  process.stdout.write(`machine: ${machine.cpus}× ${machine.model}, Node ${machine.node}${values.tiny ? ' (tiny shapes: harness check, not a measurement)' : ''}\n\n`);
  process.stdout.write('| backend | conv fwd GFLOP/s | conv input-grad GFLOP/s | conv filter-grad GFLOP/s | model | forward img/s | train step img/s |\n|---|---:|---:|---:|---|---:|---:|\n');
  for (const r of results) {
    if (r.error) process.stdout.write(`| ${r.backend} | failed: ${r.error} | | | | | |\n`);
    else process.stdout.write(`| ${r.backend} | ${fmt(r.conv.forward)} | ${fmt(r.conv.inputGradient)} | ${fmt(r.conv.filterGradient)} (batch ${r.conv.shape.batch}) | ${r.resnet.architecture} b${r.resnet.batch} | ${fmt(r.resnet.forward)} | ${fmt(r.resnet.trainStep)} |\n`);
  }
  process.stdout.write('\n| backend | attack model | FGSM img/s | PGD img/s | MoCo-PGD img/s |\n|---|---|---:|---:|---:|\n');
  for (const r of results) {
    if (!r.attacks) continue;
    const [pgdKey, mocoKey] = Object.keys(r.attacks).filter((k) => k.startsWith('pgd') || k.startsWith('mocoPgd'));
    process.stdout.write(`| ${r.backend} | ${r.attacks.architecture} b${r.attacks.batch} | ${fmt(r.attacks.fgsm)} | ${fmt(r.attacks[pgdKey])} (${pgdKey}) | ${fmt(r.attacks[mocoKey])} (${mocoKey}) |\n`);
  }
  process.stdout.write(`\n${formatDataTables(data)}`);
  process.stdout.write(`\nwritten to ${file}\n`);
}
