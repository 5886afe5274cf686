#!/usr/bin/env node
// In-process A/B of the native backend's convolutions (performance notes #28–#32): moco-robust's oneDNN kernels
// (Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter and the fused conv → batch-norm (→ residual sum)
// → ReLU) against tfjs-node's own, switched back and forth in one process on the same model and data, so the
// machine's drift cancels out of each round's ratio. TensorFlow's own oneDNN stays on (selectBackend turns it off
// beside ours, #31), so the TensorFlow side runs the convolutions tfjs-node runs by default.
//
//   npm run native:build && npm run build && node scripts/convolution-ab.mjs [architecture=resnet18] [rounds=5]
//
// Prints, per workload (inference, supervised PGD-10, a training step at batch 32), the median time of each side and
// the median of the rounds' speed-ups with their range. A benchmark, never a test.
import { createRequire } from 'node:module';
import { supervisedPgd } from '@moco-robust/attacks';
import { crossEntropy, selectBackend } from '@moco-robust/core';
import { CONV_AFFINE_KERNEL } from '@moco-robust/core/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { classifierWorkload } from './classifier-workload.mjs';

const [architecture = 'resnet18', roundsArg = '5'] = process.argv.slice(2);
process.env.TF_ENABLE_ONEDNN_OPTS ??= '1';
const selection = await selectBackend({ backend: 'node' });
if (!selection.convolution?.startsWith('oneDNN')) {
  process.stderr.write(`the oneDNN convolutions are not loaded (${selection.convolution}): npm run native:build\n`);
  process.exit(1);
}
const names = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];
const kernels = createRequire(import.meta.url)
  .resolve('@tensorflow/tfjs-node/package.json')
  .replace(/package\.json$/, 'dist/kernels/');
const require = createRequire(kernels);
const sides = {
  oneDNN: Object.fromEntries([...names, CONV_AFFINE_KERNEL].map((n) => [n, tf.getKernel(n, 'tensorflow')])),
  TensorFlow: {
    Conv2D: require('./Conv2D.js').conv2DConfig,
    FusedConv2D: require('./FusedConv2D.js').fusedConv2DConfig,
    Conv2DBackpropInput: require('./Conv2DBackpropInput.js').conv2DBackpropInputConfig,
    Conv2DBackpropFilter: require('./Conv2DBackpropFilter.js').conv2DBackpropFilterConfig,
  },
};
const use = (side) => {
  for (const name of [...names, CONV_AFFINE_KERNEL]) {
    if (tf.getKernel(name, 'tensorflow')) tf.unregisterKernel(name, 'tensorflow');
    if (sides[side][name]) tf.registerKernel(sides[side][name]); // TensorFlow's side has no fused kernel: no fusion
  }
};

const batch = 32;
const { classifier, x, y, variables, sgd } = classifierWorkload(architecture, batch);
const workloads = {
  inference: [5, () => tf.tidy(() => classifier.predict(x).dataSync())],
  'PGD-10': [1, () => tf.tidy(() => supervisedPgd(classifier, x, y, { steps: 10, rng: 1 }).dataSync())],
  'training step': [
    2,
    () => {
      const loss = () => tf.mean(crossEntropy(classifier.apply(x, { training: true }), y));
      const { value, grads } = tf.variableGrads(loss, variables);
      sgd.step(variables, grads);
      value.dataSync();
      tf.dispose([value, grads]);
    },
  ],
};
for (const side of Object.keys(sides)) {
  use(side);
  for (const [, run] of Object.values(workloads)) run(); // warm-up: primitives made, caches filled
}
const times = { oneDNN: {}, TensorFlow: {} };
for (let round = 0; round < Number(roundsArg); round += 1) {
  for (const side of round % 2 === 0 ? ['oneDNN', 'TensorFlow'] : ['TensorFlow', 'oneDNN']) {
    use(side);
    for (const [name, [repeats, run]] of Object.entries(workloads)) {
      const started = performance.now();
      for (let i = 0; i < repeats; i += 1) run();
      (times[side][name] ??= []).push((performance.now() - started) / repeats);
    }
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
process.stdout.write(`${architecture} b${batch}, ${roundsArg} rounds (${selection.convolution})\n`);
for (const name of Object.keys(workloads)) {
  const ratios = times.oneDNN[name].map((t, i) => times.TensorFlow[name][i] / t);
  process.stdout.write(
    `${name.padEnd(14)} oneDNN ${median(times.oneDNN[name]).toFixed(1)} ms, TensorFlow ` +
      `${median(times.TensorFlow[name]).toFixed(1)} ms: speed-up ${median(ratios).toFixed(2)}× ` +
      `(${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})\n`,
  );
}
