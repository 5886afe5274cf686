// Integration test of the native backend built from the TensorFlow wheel: runs when tfjs-node already
// loads, or builds it first with MOCO_ROBUST_NATIVE_TEST=1. The numerics run in a child process (a
// native crash must not take vitest down) on the tensorflow backend and then on cpu, in the same child.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNativeBackend } from './build-native-backend';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
const repositoryDir = join(packageDir, '../..');
const nativeLoads = () =>
  spawnSync(process.execPath, ['--input-type=module', '-e', "await import('@tensorflow/tfjs-node')"], {
    cwd: packageDir,
  }).status === 0;
const requested = process.env.MOCO_ROBUST_NATIVE_TEST === '1';
const enabled = requested || nativeLoads();
if (!enabled)
  console.warn(
    'NATIVE BACKEND NOT BUILT: the native parity checks are ' +
      'skipped (npm run native:build, or MOCO_ROBUST_NATIVE_TEST=1).',
  );

const PARITY = `
const tf = await import('@tensorflow/tfjs-node');
const u = (shape, seed, scale = 1) => tf.randomUniform(shape, -scale, scale, 'float32', seed);
const flat = (ts) => ts.map((t) => Array.from(t.dataSync()));
const checks = {
  conv3x3: () => [1, 2].flatMap((stride) => {
    const x = u([2, 10, 10, 5], 1), w = u([3, 3, 5, 7], 2), r = u([2, 10 / stride, 10 / stride, 7], 3);
    const f = (a, b) => tf.conv2d(a, b, stride, 'same');
    return [f(x, w), ...tf.grads((a, b) => tf.sum(tf.mul(f(a, b), r)))([x, w])];
  }),
  batchNorm: () => {
    const x = u([4, 6, 6, 5], 4, 2), scale = u([5], 5), offset = u([5], 6), r = u([4, 6, 6, 5], 7);
    const f = (a, s, o) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.batchNorm(a, mean, variance, o, s, 1e-3);
    };
    return [f(x, scale, offset), ...tf.grads((a, s, o) => tf.sum(tf.mul(f(a, s, o), r)))([x, scale, offset])];
  },
  matMul: () => {
    const a = u([16, 24], 8), b = u([24, 12], 9), r = u([16, 12], 10);
    return [tf.matMul(a, b), ...tf.grads((p, q) => tf.sum(tf.mul(tf.matMul(p, q), r)))([a, b])];
  },
  convnetSgdStep: () => {
    const x = u([8, 12, 12, 3], 11), labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10);
    const params = [u([3, 3, 3, 8], 12, 0.5), u([8], 13, 0.1), u([8], 14), u([8], 15)];
    params.push(u([3, 3, 8, 16], 16, 0.3), u([16, 10], 17, 0.5), u([10], 18, 0.1));
    const loss = (w1, b1, gamma, beta, w2, w3, b3) => {
      let h = tf.relu(tf.add(tf.conv2d(x, w1, 1, 'same'), b1)); // [8, 12, 12, 8]
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.batchNorm(h, mean, variance, beta, gamma, 1e-3);
      h = tf.mean(tf.relu(tf.conv2d(h, w2, 2, 'same')), [1, 2]); // [8, 16]
      return tf.losses.softmaxCrossEntropy(labels, tf.add(tf.matMul(h, w3), b3));
    };
    const { value, grads } = tf.valueAndGrads(loss)(params);
    return [value, ...grads, ...params.map((p, i) => tf.sub(p, tf.mul(0.1, grads[i])))]; // one SGD step, lr 0.1
  },
};
const run = () =>
  Object.fromEntries(Object.entries(checks).map(([name, check]) => [name, tf.tidy(() => flat(check()))]));
const backend = tf.getBackend();
const native = run();
await tf.setBackend('cpu');
const cpu = run();
const relative = (v, w) => Math.abs(v - w) / (1 + Math.abs(w));
const worst = (name) =>
  Math.max(
    ...native[name].map((values, i) => values.reduce((max, v, j) => Math.max(max, relative(v, cpu[name][i][j])), 0)),
  );
const differences = Object.fromEntries(Object.keys(checks).map((name) => [name, worst(name)]));
process.stdout.write('\\n' + JSON.stringify({ backend, differences }));
`;

const runChild = (script: string) => {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: packageDir,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
  expect(child.status, `child exited with ${child.status} (signal ${child.signal}): ${child.stderr.slice(-1500)}`).toBe(
    0,
  );
  return JSON.parse(child.stdout.slice(child.stdout.lastIndexOf('\n') + 1));
};

describe.skipIf(!enabled)('the native backend built from the TensorFlow wheel', () => {
  beforeAll(async () => {
    if (!requested) return;
    const result = await buildNativeBackend({ projectDir: repositoryDir });
    console.info(
      `[native build] ready in ${result.seconds.toFixed(1)} s (max |native ` +
        `− cpu| ${result.verification.maxDifference.toExponential(1)})`,
    );
  }, 900_000);

  it(
    'agrees with cpu on conv2d (3×3, stride 1 and 2) with input/filter ' +
      'gradients, batch-norm, matMul and a convnet SGD step',
    () => {
      const { backend, differences } = runChild(PARITY) as { backend: string; differences: Record<string, number> };
      expect(backend).toBe('tensorflow');
      console.info(`[native parity] max |native − cpu| / (1 + |cpu|): ${JSON.stringify(differences)}`);
      expect(Object.keys(differences)).toEqual(['conv3x3', 'batchNorm', 'matMul', 'convnetSgdStep']);
      for (const [name, difference] of Object.entries(differences)) expect(difference, name).toBeLessThan(1e-4);
    },
  );
});
