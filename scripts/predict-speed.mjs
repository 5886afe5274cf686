#!/usr/bin/env node
// Images/s of a seeded ResNet classifier's `predict` on one backend — the quick check behind performance note #40,
// run in alternating processes against another build (`git stash` / checkout, `npx turbo run build`) so that the
// machine's drift shows in both sides alike:
//
//   node scripts/predict-speed.mjs [backend=wasm] [architecture=resnet18] [batch=32] [repeats=5] [label]
//
// Prints the label, the median images/s after two warm-up calls, and each call's milliseconds. A benchmark, never a
// test.
import { selectBackend } from '@moco-robust/core';
import * as tf from '@tensorflow/tfjs-core';
import { classifierWorkload } from './classifier-workload.mjs';

const [backend = 'wasm', architecture = 'resnet18', batchArg = '32', repeatsArg = '5', label = ''] =
  process.argv.slice(2);
const batch = Number(batchArg);
const repeats = Number(repeatsArg);
await selectBackend({ backend });
const { classifier, x, dispose } = classifierWorkload(architecture, batch);
const call = () => tf.tidy(() => classifier.predict(x).dataSync());
for (let i = 0; i < 2; i++) call();
const times = [];
for (let i = 0; i < repeats; i++) {
  const start = performance.now();
  call();
  times.push(performance.now() - start);
}
dispose();
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(repeats / 2)];
const rate = ((batch * 1000) / median).toFixed(1);
const each = times.map((t) => t.toFixed(0)).join(' ');
process.stdout.write(`${label} ${tf.getBackend()} ${architecture} b${batch}: ${rate} images/s (ms: ${each})\n`);
