#!/usr/bin/env node
// Peak memory of one MoCo-PGD pre-training step (ResNet-18, native backend): the most bytes tfjs holds in tensors
// after any kernel, the kernel at that peak and the process's peak RSS. `--tfjs-gradients` measures tfjs-core's own
// gradient pass instead of releaseGradientMemory's (docs/performance-notes.md #22). `--census` also lists the tensors
// alive at the peak, grouped by the kernel that made them (`Identity<Relu`: a tensor the tape keeps for Relu's
// gradient) and shape, with how many distinct buffers they hold (docs/performance-notes.md #25). Run each in its own
// process:
//   node scripts/peak-tensor-memory.mjs [batch=64] [attack steps=10] [--tfjs-gradients] [--census]
// (tfjs counts a reshape's output or a kept clone as new bytes although the buffer is shared, so the tensor figure can
// exceed the RSS; the census's distinct buffers do not.)
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@moco-robust/core';
import { benchmarkPretrain } from '@moco-robust/moco/bench';

const args = process.argv.slice(2);
const tfjsGradients = args.includes('--tfjs-gradients');
const census = args.includes('--census');
const [batch = 64, attackSteps = 10] = args.filter((a) => !a.startsWith('--')).map(Number);
await selectBackend({ backend: 'node' });
const engine = tf.engine();
if (tfjsGradients) delete engine.gradients; // the class's own method again
const run = engine.runKernelFunc.bind(engine);
let peak = 0;
let kernels = 0;
let peakKernel = '';
let atPeak = [];
const made = []; // census: every kernel output, with the kernel (and the kernel that called it)
const calling = [];
engine.runKernelFunc = (kernelParams) => {
  const name = kernelParams.kernelName ?? 'custom';
  const caller = calling.at(-1);
  calling.push(name);
  let out;
  try {
    out = run(kernelParams);
  } finally {
    calling.pop();
  }
  kernels++;
  if (census) for (const t of [out].flat()) made.push({ t, by: caller ? `${name}<${caller}` : name });
  if (engine.state.numBytes > peak) {
    peak = engine.state.numBytes;
    peakKernel = `${name} (#${kernels})`;
    if (census) atPeak = made.filter(({ t }) => !t.isDisposed);
  }
  return out;
};
const result = await benchmarkPretrain({ batch, steps: 1, attackSteps });
console.log(
  JSON.stringify({
    gradients: tfjsGradients ? 'tfjs-core' : 'releaseGradientMemory',
    batch,
    attackSteps,
    kernels,
    peakTensorMiB: Math.round(peak / 2 ** 20),
    peakKernel,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    imagesPerSecond: result.imagesPerSecond,
    leakedTensors: result.leakedTensors,
  }),
);
if (census) {
  const groups = new Map();
  const buffers = new Map();
  for (const { t, by } of atPeak) {
    const key = `${by} [${t.shape}]`;
    const group = groups.get(key) ?? { tensors: 0, buffers: new Set(), bytes: t.size * 4 };
    group.tensors++;
    group.buffers.add(t.dataId);
    groups.set(key, group);
    buffers.set(t.dataId, t.size * 4);
  }
  const distinct = [...buffers.values()].reduce((a, b) => a + b, 0);
  console.log(`distinct buffers alive at the peak: ${(distinct / 2 ** 20).toFixed(0)} MiB`);
  const rows = [...groups].sort((a, b) => b[1].buffers.size * b[1].bytes - a[1].buffers.size * a[1].bytes);
  for (const [key, group] of rows.slice(0, 30))
    console.log(
      `${((group.buffers.size * group.bytes) / 2 ** 20).toFixed(1).padStart(8)} MiB` +
        `${String(group.buffers.size).padStart(5)} buffers ${String(group.tensors).padStart(5)} tensors  ${key}`,
    );
}
