import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ONEDNN_CONVOLUTION_ADDON } from './onednn-convolution-addon';

const run = promisify(execFile);

/** The addon's C++ sources (and the header they share) in the package's `native/`. */
const NATIVE_SOURCES = ['onednn-convolution.cc', 'linf-box-projection.cc', 'average-pool.cc', 'tf-kernel-helpers.h'];

/**
 * The C++ sources of the addon, shipped in the package's `native/` (found from `dist/` and from `src/node/`): the
 * oneDNN convolutions, FAB's projection step (`MocoLinfBoxProjection`), average pooling over windows that do not
 * overlap (`MocoAvgPool`, `MocoAvgPoolGrad`), registered when the addon loads, and the header they share (not
 * compiled itself; a newer one makes the addon stale too).
 */
export function oneDnnConvolutionSources(): string[] {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level += 1, directory = dirname(directory)) {
    const candidates = NATIVE_SOURCES.map((name) => join(directory, 'native', name));
    if (candidates.every((candidate) => existsSync(candidate))) return candidates;
  }
  throw new Error(`native/${NATIVE_SOURCES.join(', native/')} not found above ${fileURLToPath(import.meta.url)}`);
}

/** What {@link buildOneDnnConvolution} did. */
export type OneDnnConvolutionBuild =
  | {
      built: true;
      path: string;
      onednnVersion: string /** Max relative |oneDNN − TensorFlow| of the check. */;
      maxDifference: number;
    }
  | { built: false; reason: string };

/** The compiler's complaint when oneDNN's headers are absent: not an error, the convolutions stay TensorFlow's. */
const NO_ONEDNN = /oneapi\/dnnl\/dnnl\.hpp: No such file/;

// Runs in a child, like the binding's check: every case on the oneDNN ops against TensorFlow's own kernels.
const CHECK_SCRIPT = `
const tf = await import('@tensorflow/tfjs-node');
const { createRequire } = await import('node:module');
const addon = createRequire(process.cwd() + '/')(process.argv[1]);
const backend = tf.backend();
const INT = backend.binding.TF_ATTR_INT;
const op = (name, inputs, attrs) => backend.executeSingleOutput(name,
  Object.entries(attrs).map(([name, value]) => ({ name, type: INT, value })), inputs);
let maxDifference = 0;
const compare = (a, b) => {
  const [x, y] = [a.dataSync(), b.dataSync()];
  if (x.length !== y.length) throw new Error('shapes differ: ' + a.shape + ' against ' + b.shape);
  x.forEach((v, i) => { maxDifference = Math.max(maxDifference, Math.abs(v - y[i]) / (1 + Math.abs(y[i]))); });
};
for (const [n, h, w, c, k, co, stride, pad, dilation] of [
  [2, 9, 9, 4, 3, 5, 1, 'same', 1], [2, 9, 8, 4, 3, 5, 2, 'same', 1], [1, 10, 10, 3, 1, 6, 1, 'valid', 1],
  [3, 12, 12, 2, 3, 4, 1, 'same', 2], [2, 11, 11, 3, 5, 2, 3, 'valid', 1],
]) tf.tidy(() => {
  const x = tf.randomUniform([n, h, w, c], -1, 1, 'float32', 1);
  const f = tf.randomUniform([k, k, c, co], -1, 1, 'float32', 2);
  const info = tf.backend_util.computeConv2DInfo(x.shape, f.shape, stride, dilation, pad);
  const p = info.padInfo;
  const pads = [p.top, p.bottom, p.left, p.right];
  const attrs = { strides: [stride, stride], pads, dilations: [dilation, dilation] };
  const y = tf.conv2d(x, f, stride, pad, 'NHWC', dilation);
  compare(op('MocoConv2D', [x, f], attrs), y);
  if (dilation === 1) {
    const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 3);
    const expected = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: stride, pad, dataFormat: 'NHWC', filterShape: f.shape });
    compare(op('MocoConv2DBackpropFilter', [x, dy], { ...attrs, filter_shape: f.shape }), expected);
  }
});
// FAB's projection step, compiled into the same addon: two hand-computed rows (the second stops at the box edge)
tf.tidy(() => compare(
  op('MocoLinfBoxProjection', [tf.tensor2d([[0.5, 0.5], [0.9, 0.5]]), tf.ones([2, 2]), tf.tensor1d([1.5, 1.8])], {}),
  tf.tensor2d([[0.25, 0.25], [0.1, 0.3]]),
));
process.stdout.write('\\n' + JSON.stringify({ onednnVersion: addon.onednnVersion, maxDifference }));
`;

/**
 * Loads the addon at `path` in a child process with `packageDir`'s tfjs-node and checks its convolutions against
 * TensorFlow's own kernels (forward: stride 1–3, `same`/`valid`, dilation 2, 1×1 to 5×5; filter gradient), and its
 * FAB projection against hand-computed steps, to a relative `tolerance`. Returns its oneDNN version and the largest
 * difference; throws when it does not load or disagrees.
 */
export async function checkOneDnnConvolution(
  packageDir: string,
  path: string,
  tolerance = 1e-4,
): Promise<{ onednnVersion: string; maxDifference: number }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHECK_SCRIPT, path], {
    cwd: packageDir,
    maxBuffer: 1 << 24,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
  });
  const result = JSON.parse(stdout.slice(stdout.lastIndexOf('\n') + 1)) as {
    onednnVersion: string;
    maxDifference: number;
  };
  if (!(result.maxDifference <= tolerance))
    throw new Error(
      `the oneDNN convolutions disagree with TensorFlow's: ` +
        `max relative difference ${result.maxDifference} > ${tolerance}`,
    );
  return result;
}

/**
 * Compiles `native/onednn-convolution.cc` and the other {@link oneDnnConvolutionSources} against the binding's
 * TensorFlow library (`<packageDir>/deps`), oneDNN's headers and library (Debian's `libdnnl-dev`) and Node's headers
 * (`<nodeDir>/include/node`) into `<packageDir>/deps/onednn-convolution.node`, after {@link checkOneDnnConvolution}
 * passes on the new file. Returns `built: false` with the reason when oneDNN's or Node's headers are missing; throws
 * (leaving no addon behind) when the compiler fails otherwise or the check disagrees.
 */
export async function buildOneDnnConvolution(
  packageDir: string,
  nodeDir: string | undefined,
): Promise<OneDnnConvolutionBuild> {
  const nodeInclude = nodeDir && join(nodeDir, 'include', 'node');
  if (!nodeInclude || !existsSync(join(nodeInclude, 'node_api.h')))
    return { built: false, reason: "Node's headers (include/node/node_api.h) not found: set npm_config_nodedir" };
  const depsDir = join(packageDir, 'deps');
  const target = join(depsDir, ONEDNN_CONVOLUTION_ADDON);
  const partial = join(depsDir, `partial-${ONEDNN_CONVOLUTION_ADDON}`);
  const args = [
    ...['-std=c++17', '-O2', '-fPIC', '-shared', '-fopenmp', '-Wall', '-Werror'],
    ...[`-I${nodeInclude}`, `-I${join(depsDir, 'include')}`],
    ...oneDnnConvolutionSources().filter((source) => source.endsWith('.cc')),
    ...['-o', partial],
    ...[`-L${join(depsDir, 'lib')}`, '-l:libtensorflow_framework.so.2', '-ldnnl', '-Wl,-rpath,$ORIGIN/lib'],
  ];
  await rm(target, { force: true });
  try {
    await run(process.env.CXX ?? 'c++', args, { maxBuffer: 1 << 24 });
    const checked = await checkOneDnnConvolution(packageDir, partial);
    await rename(partial, target);
    return { built: true, path: target, ...checked };
  } catch (error) {
    await rm(partial, { force: true });
    const stderr = String((error as { stderr?: string }).stderr ?? '');
    if (NO_ONEDNN.test(stderr))
      return { built: false, reason: 'oneDNN is not installed (apt-get install libdnnl-dev)' };
    throw error;
  }
}
