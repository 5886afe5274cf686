import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What {@link verifyNativeBackend} found. */
export interface NativeVerification {
  /** The backend the package registered and selected (`tensorflow` when the binding loads). */
  backend: string;
  /** Max over the checks of |native − cpu| / (1 + |cpu|). */
  maxDifference: number;
  /** Whether TensorFlow placed ops on a GPU (the gpu variant with CUDA libraries found). */
  usingGpu: boolean;
}

// Runs in a child: a binding that fails to load (or crashes) must not take the caller down.
const VERIFY_SCRIPT = `
const native = await import(process.argv[1]);
const tf = native.default ?? native;
const checks = () => tf.tidy(() => {
  const x = tf.randomNormal([2, 9, 9, 4], 0, 1, 'float32', 1);
  const w = tf.randomNormal([3, 3, 4, 5], 0, 1, 'float32', 2);
  const s = tf.randomNormal([1, 1, 4, 6], 0, 1, 'float32', 3);
  const loss = (stride) => (x, w) => tf.sum(tf.square(tf.conv2d(x, w, stride, 'same')));
  const flat = tf.reshape(x, [2, -1]);
  return [
    tf.conv2d(x, w, 1, 'same'), tf.conv2d(x, w, 2, 'same'), tf.conv2d(x, s, 1, 'valid'),
    ...tf.grads(loss(1))([x, w]), ...tf.grads(loss(2))([x, w]),
    tf.matMul(flat, flat, false, true), tf.matMul(tf.reshape(w, [36, 5]), tf.reshape(w, [36, 5]), true, false),
  ].map((t) => Array.from(t.dataSync()));
});
const backend = tf.getBackend();
const usingGpu = Boolean(tf.backend().isUsingGpuDevice);
const a = checks();
await tf.setBackend('cpu');
const b = checks();
let maxDifference = 0;
a.forEach((values, i) =>
  values.forEach((value, j) => {
    maxDifference = Math.max(maxDifference, Math.abs(value - b[i][j]) / (1 + Math.abs(b[i][j])));
  }),
);
process.stdout.write('\\n' + JSON.stringify({ backend, maxDifference, usingGpu }));
`;

/**
 * Loads `packageName` (`@tensorflow/tfjs-node` or `-gpu`) in a child Node process started in
 * `projectDir`, checks that its backend is `tensorflow`, and that conv2d (stride 1 and 2, 3×3 and 1×1),
 * its input and filter gradients and matMul agree with the cpu backend within `tolerance`
 * (relative, default 1e-4). Throws the child's error output when it does not load or disagrees.
 */
export async function verifyNativeBackend(
  packageName: string,
  projectDir: string,
  tolerance = 1e-4,
): Promise<NativeVerification> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', VERIFY_SCRIPT, packageName], {
    cwd: projectDir,
    maxBuffer: 1 << 26,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
  });
  const result = JSON.parse(stdout.slice(stdout.lastIndexOf('\n') + 1)) as NativeVerification;
  if (result.backend !== 'tensorflow')
    throw new Error(`${packageName} loaded but its backend is '${result.backend}', not 'tensorflow'`);
  if (!(result.maxDifference <= tolerance)) {
    throw new Error(
      `${packageName} disagrees with the cpu backend: max relative difference ${result.maxDifference} > ${tolerance}`,
    );
  }
  return result;
}
