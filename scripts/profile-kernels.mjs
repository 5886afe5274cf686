#!/usr/bin/env node
// Per-kernel profile of one benchmark workload (issue 21's "profile a step per op"): which tfjs kernels run, how often,
// and how long, for clean inference, supervised PGD-k, one adversarial fine-tuning step or two MoCo-PGD-k adversarial
// pre-training steps (the engine's, augmentation to queue; batch-norm split into 8 groups) of a ResNet, on one backend.
//
//   npm run build && node scripts/profile-kernels.mjs [--backend node]
//     [--workload infer|sup_pgd|sup_adv_step|moco_adv_step]
//     [--architecture resnet18] [--batch 32] [--steps 10] [--top 25] [--json]
//
// Kernel times come from `tf.profile` (the backend's own timer); on the native backend kernels run synchronously, so
// they add up to the step's kernel time. The first call warms up and is not profiled. A benchmark, never a test.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, selectBackend } from '@moco-robust/core';
import { supervisedPgd } from '@moco-robust/attacks';
import { benchmarkPretrain } from '@moco-robust/moco/bench';
import { classifierWorkload } from './classifier-workload.mjs';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'node' },
    workload: { type: 'string', default: 'sup_pgd' },
    architecture: { type: 'string', default: 'resnet18' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '10' },
    top: { type: 'string', default: '25' },
    json: { type: 'boolean', default: false },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
await selectBackend({ backend: values.backend });

const workload = classifierWorkload(values.architecture, batch);
const { classifier, x, y, variables, sgd } = workload;

const workloads = {
  infer: () => tf.tidy(() => classifier.predict(x)),
  sup_pgd: () => supervisedPgd(classifier, x, y, { steps, stepSize: 2 / 255, rng: 1 }),
  sup_adv_step: () => {
    const adversarial = supervisedPgd(classifier, x, y, { steps, stepSize: 2 / 255, rng: 1 });
    const { value, grads } = tf.variableGrads(
      () => tf.mean(crossEntropy(classifier.apply(adversarial, { training: true }), y)),
      variables,
    );
    sgd.step(variables, grads);
    tf.dispose([grads, adversarial]);
    return value;
  },
  // benchmarkPretrain runs steps + 1 = 2 whole pre-training steps; the scalar returned only marks the end
  moco_adv_step: async () => {
    await benchmarkPretrain({ architecture: values.architecture, batch, steps: 1, attack: 'pgd', attackSteps: steps });
    return tf.scalar(0);
  },
};
const run = workloads[values.workload];
if (!run) throw new Error(`--workload must be one of ${Object.keys(workloads).join(', ')}; got ${values.workload}`);

const finish = async (pending) => {
  const out = await pending;
  await out.data();
  out.dispose();
};
await finish(run()); // warm-up
const start = performance.now();
const info = await tf.profile(async () => finish(run()));
const wallMs = performance.now() - start;

const byKernel = new Map();
for (const k of info.kernels) {
  const entry = byKernel.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
  entry.calls += 1;
  entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  byKernel.set(k.name, entry);
}
const rows = [...byKernel.values()].sort((a, b) => b.ms - a.ms);
const kernelMs = rows.reduce((sum, r) => sum + r.ms, 0);
const summary = {
  backend: tf.getBackend(),
  workload: values.workload,
  architecture: values.architecture,
  batch,
  steps,
  wallMs,
  kernelMs,
  kernels: info.kernels.length,
  peakBytes: info.peakBytes,
  rows,
};
if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
else {
  const lines = [
    `${summary.workload} on ${summary.backend}: ${values.architecture} b${batch}${
      values.workload === 'infer' ? '' : `, k=${steps}`
    } — wall ${wallMs.toFixed(0)} ms under the profiler, ` +
      `kernel time ${kernelMs.toFixed(0)} ms, ${summary.kernels} kernels`,
    '',
    '| kernel | calls | ms | share |',
    '|---|---:|---:|---:|',
    ...rows
      .slice(0, Number(values.top))
      .map((r) => `| ${r.kernel} | ${r.calls} | ${r.ms.toFixed(1)} | ${((100 * r.ms) / kernelMs).toFixed(1)} % |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
workload.dispose();
