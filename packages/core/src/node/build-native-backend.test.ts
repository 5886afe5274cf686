import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../errors/errors';
import { buildNativeBackend, resolveNativeBuildOptions, type NativeBuildEvent } from './build-native-backend';
import { writeFakeWheel } from './test-helpers/write-fake-wheel';

const root = mkdtempSync(join(tmpdir(), 'moco-native-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const require = createRequire(import.meta.url);

/** A project with tfjs-node 4.22.0 "installed" (no binding) and a stand-in node-pre-gyp running `compileScript`. */
function writeFakeProject(name: string, compileScript: string, packageName = 'tfjs-node'): string {
  const projectDir = join(root, name);
  const tfjsNode = join(projectDir, 'node_modules', '@tensorflow', packageName);
  const preGyp = join(projectDir, 'node_modules', '@mapbox', 'node-pre-gyp');
  mkdirSync(tfjsNode, { recursive: true });
  mkdirSync(join(preGyp, 'bin'), { recursive: true });
  writeFileSync(
    join(tfjsNode, 'package.json'),
    JSON.stringify({ name: `@tensorflow/${packageName}`, version: '4.22.0', main: 'index.cjs' }),
  );
  writeFileSync(join(preGyp, 'package.json'), JSON.stringify({ name: '@mapbox/node-pre-gyp', version: '1.0.9' }));
  writeFileSync(join(preGyp, 'bin', 'node-pre-gyp'), compileScript);
  return projectDir;
}

/** A stand-in C++ compiler (`CXX`) that prints `stderr` and fails, as g++ does. */
function fakeCompiler(name: string, stderr: string): string {
  const path = join(root, `${name}-c++`);
  writeFileSync(path, `#!${process.execPath}\nprocess.stderr.write(${JSON.stringify(stderr)});\nprocess.exit(1);\n`);
  chmodSync(path, 0o755);
  return path;
}
const environmentBefore = { CXX: process.env.CXX, npm_config_nodedir: process.env.npm_config_nodedir };
afterEach(() => {
  for (const [name, value] of Object.entries(environmentBefore)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
/** Node's headers as the oneDNN convolutions' build looks for them, wherever this machine has them or not. */
function fakeNodeHeaders(): string {
  const nodeDir = join(root, 'node-headers');
  mkdirSync(join(nodeDir, 'include', 'node'), { recursive: true });
  writeFileSync(join(nodeDir, 'include', 'node', 'node_api.h'), '');
  return nodeDir;
}

describe('buildNativeBackend options', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveNativeBuildOptions({ projectDir: root });
    expect(resolved).toMatchObject({
      variant: 'cpu',
      tensorflowVersion: '2.21.0',
      projectDir: root,
      python: 'python3',
      force: false,
      wheel: undefined,
    });
    expect(resolved.cacheDir).toMatch(/\.cache\/moco-robust$/);
    expect(resolveNativeBuildOptions().projectDir).toBe(process.cwd());
    expect(resolveNativeBuildOptions({ variant: 'gpu', tensorflowVersion: '2.22.0rc1' })).toMatchObject({
      variant: 'gpu',
      tensorflowVersion: '2.22.0rc1',
    });
  });

  it('rejects bad options before touching anything, naming the option', async () => {
    await expect(buildNativeBackend({ variant: 'tpu' as never })).rejects.toThrow(
      /Invalid argument 'variant': expected 'cpu' or 'gpu', got string "tpu"/,
    );
    await expect(buildNativeBackend({ tensorflowVersion: 'latest' })).rejects.toThrow(/'tensorflowVersion'/);
    expect(() => resolveNativeBuildOptions({ projectDir: join(root, 'absent') })).toThrow(
      /'projectDir': expected an existing directory/,
    );
    expect(() => resolveNativeBuildOptions({ wheel: join(root, 'absent.whl') })).toThrow(
      /'wheel': expected the path of an existing \.whl file/,
    );
    expect(() => resolveNativeBuildOptions({ python: '' })).toThrow(/'python': expected a non-empty string/);
    expect(() => resolveNativeBuildOptions({ cacheDir: 3 as never })).toThrow(/'cacheDir'/);
    expect(() => resolveNativeBuildOptions({ force: 'yes' as never })).toThrow(/'force': expected a boolean/);
  });
});

describe('buildNativeBackend phases (fake wheel, fake compiler)', () => {
  const wheel = writeFakeWheel(join(root, 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl'));

  it('keeps the failing command’s output in a BackendUnavailableError that says what to install', async () => {
    const projectDir = writeFakeProject(
      'failing',
      "process.stderr.write('gyp ERR! stack Error: not found: make\\n'); process.exit(1);\n",
    );
    const events: NativeBuildEvent[] = [];
    const error = await buildNativeBackend({ projectDir, wheel, cacheDir: join(root, 'cache') }, (event) =>
      events.push(event),
    ).catch((e: unknown) => e);
    expect(BackendUnavailableError.isInstance(error)).toBe(true);
    const failure = error as BackendUnavailableError;
    expect(failure.backend).toBe('node');
    expect(failure.message).toMatch(
      /^Building @tensorflow\/tfjs-node failed while compiling the binding with node-pre-gyp/,
    );
    expect(failure.message).toContain('gyp ERR! stack Error: not found: make');
    expect(failure.message).toMatch(/build-essential/);
    expect(failure.cause).toBeInstanceOf(Error);
    expect(events.map((e) => e.phase)).toEqual(['install', 'wheel', 'extract', 'extract', 'compile']);
    expect(events.every((e) => e.type === 'native-build-phase' && e.detail.length > 0)).toBe(true);
    const libDir = join(projectDir, 'node_modules', '@tensorflow', 'tfjs-node', 'deps', 'lib');
    expect(readlinkSync(join(libDir, 'libtensorflow.so'))).toBe('libtensorflow_cc.so.2');
  });

  it('builds @tensorflow/tfjs-node-gpu from the tensorflow (GPU) wheel for the gpu variant', async () => {
    const projectDir = writeFakeProject(
      'gpu',
      "process.stderr.write('compiler output for gpu\\n'); process.exit(2);\n",
      'tfjs-node-gpu',
    );
    const gpuWheel = writeFakeWheel(join(root, 'tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl'));
    const error = (await buildNativeBackend({
      variant: 'gpu',
      projectDir,
      wheel: gpuWheel,
      cacheDir: join(root, 'cache'),
    }).catch((e: unknown) => e)) as BackendUnavailableError;
    expect(error.backend).toBe('node-gpu');
    expect(error.message).toMatch(/^Building @tensorflow\/tfjs-node-gpu failed while compiling/);
    expect(error.message).toContain('compiler output for gpu');
    const libDir = join(projectDir, 'node_modules', '@tensorflow', 'tfjs-node-gpu', 'deps', 'lib');
    expect(readlinkSync(join(libDir, 'libtensorflow_framework.so'))).toBe('libtensorflow_framework.so.2');
    expect(readlinkSync(join(projectDir, 'node_modules', '@tensorflow', 'tfjs-node-gpu', 'deps', 'include'))).toBe(
      join(root, 'cache', 'tensorflow', 'tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64', 'tensorflow', 'include'),
    );
  });

  it('runs every phase and returns the result once the built package verifies against cpu', async () => {
    // the stand-in "binding" registers the cpu kernels under the name 'tensorflow', so verification passes
    const tfjs = require.resolve('@tensorflow/tfjs'); // the union bundle: core, gradients and the cpu backend
    const projectDir = writeFakeProject('passing', "require('node:fs').writeFileSync('built', 'yes');\n");
    const packageDir = join(projectDir, 'node_modules', '@tensorflow', 'tfjs-node');
    writeFileSync(
      join(packageDir, 'index.cjs'),
      `if (!require('node:fs').existsSync(__dirname + '/built')) throw new Error('not built');
const tf = require(${JSON.stringify(tfjs)});
for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'tensorflow' });
tf.registerBackend('tensorflow', tf.findBackendFactory('cpu'), 10);
tf.setBackend('tensorflow');
module.exports = tf;\n`,
    );
    // without libdnnl-dev the oneDNN convolutions are skipped, with the reason, and the build succeeds
    process.env.npm_config_nodedir = fakeNodeHeaders();
    process.env.CXX = fakeCompiler(
      'no-onednn',
      'onednn-convolution.cc:18:10: fatal error: oneapi/dnnl/dnnl.hpp: No such file or directory\n',
    );
    const events: NativeBuildEvent[] = [];
    const result = await buildNativeBackend({ projectDir, wheel, cacheDir: join(root, 'cache') }, (event) =>
      events.push(event),
    );
    expect(result).toMatchObject({
      packageDir,
      libDir: join(packageDir, 'deps', 'lib'),
      tensorflowVersion: '2.21.0',
      variant: 'cpu',
    });
    expect(result.verification).toEqual({ backend: 'tensorflow', maxDifference: 0, usingGpu: false });
    expect(result.seconds).toBeGreaterThan(0);
    // extraction cached by the test above
    expect(events.map((e) => e.phase)).toEqual([
      'install',
      'wheel',
      'extract',
      'compile',
      'verify',
      'kernels',
      'kernels',
      'done',
    ]);
    expect(result.onednnConvolution).toEqual({
      built: false,
      reason: 'oneDNN is not installed (apt-get install libdnnl-dev)',
    });
    expect(events.at(-2)!.detail).toMatch(/skipped, convolutions stay TensorFlow's: .*libdnnl-dev/);
    expect(events.at(-1)!.detail).toContain("convolutions on TensorFlow's");
    // a second call finds it loading, verifies and tries the missing convolutions again
    const again: NativeBuildEvent[] = [];
    await buildNativeBackend({ projectDir, wheel, cacheDir: join(root, 'cache') }, (event) => again.push(event));
    expect(again.map((e) => e.phase)).toEqual(['kernels', 'kernels', 'done']);

    // any other compiler failure fails the build in phase "kernels", with the compiler's output, leaving no addon
    process.env.npm_config_nodedir = fakeNodeHeaders();
    process.env.CXX = fakeCompiler('broken', 'onednn-convolution.cc:99:1: error: expected ; before }\n');
    const failure = await buildNativeBackend({ projectDir, wheel, cacheDir: join(root, 'cache') }).catch((e) => e);
    expect(failure).toBeInstanceOf(BackendUnavailableError);
    expect(failure.message).toMatch(/^Building @tensorflow\/tfjs-node failed while building the oneDNN convolutions/);
    expect(failure.message).toContain('error: expected ; before }');
    expect(failure.message).toContain('uninstalling libdnnl-dev skips them');
    expect(readdirSync(join(packageDir, 'deps')).filter((name) => name.endsWith('.node'))).toEqual([]);
    expect(existsSync(join(packageDir, 'deps', 'onednn-convolution.node'))).toBe(false);
  });
});
