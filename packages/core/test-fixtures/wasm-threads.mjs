// Test fixture: selects wasm with argv[2] threads, runs a convolution, its input and filter gradients
// and a batch-norm gradient, and prints the thread count and the results as JSON. Exits on its own
// (the test fails on a timeout if the pthreads kept the process alive).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { selectBackend } from '@moco-robust/core';

const selection = await selectBackend({ backend: 'wasm', wasmThreads: Number(process.argv[2]) });
const x = tf.randomNormal([8, 16, 16, 16], 0, 1, 'float32', 1);
const w = tf.randomNormal([3, 3, 16, 32], 0, 1, 'float32', 2);
const scale = tf.randomNormal([32], 1, 0.1, 'float32', 3);
const loss = (a, b) =>
  tf.sum(
    tf.square(tf.relu(tf.batchNorm(tf.conv2d(a, b, 2, 'same'), tf.zeros([32]), tf.ones([32]), tf.zeros([32]), scale))),
  );
const [gx, gw] = tf.grads(loss)([x, w]);
const y = tf.conv2d(x, w, 1, 'same');
const round = (t) => Array.from(t.dataSync());
process.stdout.write(JSON.stringify({ threads: selection.threads, y: round(y), gx: round(gx), gw: round(gw) }));
