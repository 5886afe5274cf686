#!/usr/bin/env node
// Peak memory of one MoCo-PGD pre-training step (ResNet-18, native backend): the most bytes tfjs holds in tensors
// after any kernel, the kernel at that peak and the process's peak RSS. `--tfjs-gradients` measures tfjs-core's own
// gradient pass instead of releaseGradientMemory's (docs/performance-notes.md #22). Run each in its own process:
//   node scripts/peak-tensor-memory.mjs [batch=64] [attack steps=10] [--tfjs-gradients]
// (tfjs counts a reshape's output as new bytes although TensorFlow shares the buffer, so the tensor figure can exceed
// the RSS.)
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@moco-robust/core';
import { benchmarkPretrain } from '@moco-robust/moco/bench';

const args = process.argv.slice(2);
const tfjsGradients = args.includes('--tfjs-gradients');
const [batch = 64, attackSteps = 10] = args.filter((a) => !a.startsWith('--')).map(Number);
await selectBackend({ backend: 'node' });
const engine = tf.engine();
if (tfjsGradients) delete engine.gradients; // the class's own method again
const run = engine.runKernelFunc.bind(engine);
let peak = 0;
let kernels = 0;
let peakKernel = '';
engine.runKernelFunc = (kernelParams) => {
  const out = run(kernelParams);
  kernels++;
  if (engine.state.numBytes > peak) {
    peak = engine.state.numBytes;
    peakKernel = `${kernelParams.kernelName ?? 'custom'} (#${kernels})`;
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
