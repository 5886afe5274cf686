import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BackendUnavailableError, InvalidArgumentError, UnsupportedEnvironmentError } from '../errors/errors';
import { emit, type EventListener } from '../events/events';
import {
  buildOneDnnConvolution,
  checkOneDnnConvolution,
  oneDnnConvolutionSources,
  type OneDnnConvolutionBuild,
} from './build-onednn-convolution';
import { layOutNativeDeps } from './native-deps-layout';
import { verifyNativeBackend, type NativeVerification } from './native-verify';
import { downloadWheel, extractWheel, findCachedWheel } from './native-wheel';
import { ONEDNN_CONVOLUTION_ADDON } from './onednn-convolution-addon';

export { NATIVE_LIBRARY_LINKS } from './native-deps-layout';

const run = promisify(execFile);

/** The tfjs-node version whose binding is built (the repository pins one `@tensorflow/*` version). */
export const TFJS_NODE_VERSION = '4.22.0';

/** Options of {@link buildNativeBackend}. */
export interface BuildNativeBackendOptions {
  /**
   * `cpu`: `@tensorflow/tfjs-node` from the `tensorflow-cpu` wheel; `gpu`: `@tensorflow/tfjs-node-gpu` from the
   * `tensorflow` wheel (CUDA build; CUDA 12 and cuDNN libraries must be loadable at run time). Default `cpu`.
   */
  variant?: 'cpu' | 'gpu';
  /** TensorFlow wheel version, default `2.21.0`. */
  tensorflowVersion?: string;
  /** Directory whose `node_modules` receives the package, default `process.cwd()`. */
  projectDir?: string;
  /** Path of an already downloaded wheel (`.whl`); skips pip. */
  wheel?: string;
  /** Cache of wheels (`wheels/`) and extracted libraries (`tensorflow/`), default `~/.cache/moco-robust`. */
  cacheDir?: string;
  /** Python with pip (and zipfile), default `python3`; `unzip` extracts when it is missing. */
  python?: string;
  /** Rebuild even when the package already loads, default false. */
  force?: boolean;
}

/** Progress of {@link buildNativeBackend}, one event per phase. */
export type NativeBuildEvent = {
  type: 'native-build-phase';
  phase: 'install' | 'wheel' | 'extract' | 'compile' | 'kernels' | 'verify' | 'done';
  detail: string;
};

/** Result of {@link buildNativeBackend}. */
export interface NativeBuildResult {
  packageDir: string;
  libDir: string;
  tensorflowVersion: string;
  variant: 'cpu' | 'gpu';
  /** Wall time of the whole call, in seconds. */
  seconds: number;
  /** The child-process check: backend name, max relative |native − cpu|, GPU use. */
  verification: NativeVerification;
  /**
   * cpu variant: moco-robust's oneDNN convolutions (`deps/onednn-convolution.node`, which `selectBackend` loads) —
   * built and checked, or why not (no libdnnl-dev). Absent for the gpu variant, whose convolutions are cuDNN's.
   */
  onednnConvolution?: OneDnnConvolutionBuild;
}

/** The options with defaults filled in and checked, as {@link buildNativeBackend} uses them. */
export type ResolvedNativeBuildOptions = Required<Omit<BuildNativeBackendOptions, 'wheel'>> & {
  wheel: string | undefined;
};

/**
 * Checks {@link BuildNativeBackendOptions} and fills in the defaults; throws `InvalidArgumentError` naming the option.
 */
export function resolveNativeBuildOptions(options: BuildNativeBackendOptions = {}): ResolvedNativeBuildOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError({ argument: 'options', expected: 'an object', received: options });
  const { variant = 'cpu', tensorflowVersion = '2.21.0', projectDir = process.cwd(), wheel, force = false } = options;
  const { cacheDir = join(homedir(), '.cache', 'moco-robust'), python = 'python3' } = options;
  if (variant !== 'cpu' && variant !== 'gpu')
    throw new InvalidArgumentError({ argument: 'variant', expected: "'cpu' or 'gpu'", received: variant });
  if (typeof tensorflowVersion !== 'string' || !/^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+|\.post\d+)?$/.test(tensorflowVersion)) {
    throw new InvalidArgumentError({
      argument: 'tensorflowVersion',
      expected: 'a released TensorFlow version like 2.21.0',
      received: tensorflowVersion,
    });
  }
  if (typeof projectDir !== 'string' || !existsSync(projectDir) || !statSync(projectDir).isDirectory()) {
    throw new InvalidArgumentError({ argument: 'projectDir', expected: 'an existing directory', received: projectDir });
  }
  if (wheel !== undefined && (typeof wheel !== 'string' || !wheel.endsWith('.whl') || !existsSync(wheel))) {
    throw new InvalidArgumentError({
      argument: 'wheel',
      expected: 'the path of an existing .whl file',
      received: wheel,
      hint: 'Omit it to let pip download the wheel.',
    });
  }
  for (const [argument, value] of [
    ['cacheDir', cacheDir],
    ['python', python],
  ] as const) {
    if (typeof value !== 'string' || value.length === 0)
      throw new InvalidArgumentError({ argument, expected: 'a non-empty string', received: value });
  }
  if (typeof force !== 'boolean')
    throw new InvalidArgumentError({ argument: 'force', expected: 'a boolean', received: force });
  return {
    variant,
    tensorflowVersion,
    projectDir: resolve(projectDir),
    wheel: wheel && resolve(wheel),
    cacheDir: resolve(cacheDir),
    python,
    force,
  };
}

const HINTS = {
  install: 'npm must reach the registry from the project directory.',
  wheel:
    'Check that the version exists for this platform and pip reaches its index; install ' +
    'pip (apt-get install python3-pip), or pass a downloaded wheel as `wheel` (--wheel).',
  extract: 'Install python3 or unzip; the wheel may be truncated (delete it from the cache).',
  compile:
    'Install make, a C++ compiler and python3 (apt-get install build-essential python3); ' +
    'Node headers come from npm_config_nodedir or the directory above the node executable.',
  kernels:
    "The oneDNN convolutions (native/onednn-convolution.cc) did not build or disagree with TensorFlow's: see the " +
    'output above; uninstalling libdnnl-dev skips them.',
  verify: 'The binding compiled but does not work: see the output above.',
} as const;

/**
 * Builds tfjs-node's native binding against the TensorFlow C library inside a TensorFlow pip wheel,
 * instead of the libtensorflow 2.9.1 its installer downloads from a host that is gone: installs
 * `@tensorflow/tfjs-node(-gpu)@4.22.0` without scripts (skipped when present), `pip download`s the wheel
 * into `<cacheDir>/wheels` (skipped when cached or given), extracts its two libraries and headers, lays
 * out the package's `deps/`, runs `node-pre-gyp install --build-from-source` and verifies in a child
 * process that the backend is `tensorflow` and agrees with cpu within 1e-4. For the cpu variant it then compiles
 * moco-robust's oneDNN convolutions beside the binding (`buildOneDnnConvolution`; skipped, with the reason, without
 * Debian's libdnnl-dev). Linux only. Returns at once (after verifying, and building the convolutions if they are
 * missing) when the package already loads, unless `force`. Never prints; emits {@link NativeBuildEvent}s;
 * failures are `BackendUnavailableError`s holding the failing command's output.
 */
export async function buildNativeBackend(
  options: BuildNativeBackendOptions = {},
  onEvent?: EventListener<NativeBuildEvent>,
): Promise<NativeBuildResult> {
  const started = performance.now();
  const { variant, projectDir, cacheDir, python, force, ...rest } = resolveNativeBuildOptions(options);
  // a given wheel's own version wins (its file name is `<name>-<version>-<tags>.whl`)
  const tensorflowVersion = (rest.wheel && /^[^-]+-([^-]+)-/.exec(basename(rest.wheel))?.[1]) || rest.tensorflowVersion;
  if (process.platform !== 'linux')
    throw new UnsupportedEnvironmentError(
      `Building the native backend from a TensorFlow wheel supports Linux only, not ${process.platform}.`,
    );
  const packageName = variant === 'cpu' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
  const wheelName = variant === 'cpu' ? 'tensorflow-cpu' : 'tensorflow';
  const packageDir = join(projectDir, 'node_modules', ...packageName.split('/'));
  const report = (phase: NativeBuildEvent['phase'], detail: string) =>
    emit(onEvent, { type: 'native-build-phase', phase, detail });
  const finish = (
    verification: NativeVerification,
    onednnConvolution: OneDnnConvolutionBuild | undefined,
  ): NativeBuildResult => {
    const seconds = (performance.now() - started) / 1000;
    const convolution =
      onednnConvolution === undefined
        ? ''
        : onednnConvolution.built
          ? `, convolutions on oneDNN ${onednnConvolution.onednnVersion}`
          : ", convolutions on TensorFlow's";
    report(
      'done',
      `${packageName} ready (backend ${verification.backend}${verification.usingGpu ? ' on GPU' : ''}, ` +
        `max |native − cpu| ${verification.maxDifference.toExponential(1)}${convolution}) in ${seconds.toFixed(1)} s`,
    );
    const libDir = join(packageDir, 'deps', 'lib');
    return {
      packageDir,
      libDir,
      tensorflowVersion,
      variant,
      seconds,
      verification,
      ...(onednnConvolution ? { onednnConvolution } : {}),
    };
  };
  const step = async <T>(phase: keyof typeof HINTS, what: string, action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      const failure = error as Error & { stdout?: string; stderr?: string };
      const output = [failure.stdout, failure.stderr]
        .filter(Boolean)
        .join('\n')
        .trim()
        .split('\n')
        .slice(-20)
        .join('\n');
      const message =
        `Building ${packageName} failed while ${what}: ` +
        `${failure.message.split('\n')[0]}${output ? `\n${output}` : ''}\n${HINTS[phase]}`;
      throw new BackendUnavailableError({ backend: variant === 'cpu' ? 'node' : 'node-gpu', message, cause: error });
    }
  };

  const nodedir = process.env.npm_config_nodedir ?? nodeHeadersDir();
  // the cpu variant's oneDNN convolutions: checked when built before from the sources there now, else (re)built
  const convolutions = async (rebuild: boolean): Promise<OneDnnConvolutionBuild | undefined> => {
    if (variant !== 'cpu') return undefined;
    const path = join(packageDir, 'deps', ONEDNN_CONVOLUTION_ADDON);
    const built = existsSync(path) ? statSync(path).mtimeMs : undefined;
    const current =
      built !== undefined && oneDnnConvolutionSources().every((source) => statSync(source).mtimeMs <= built);
    if (!rebuild && current) {
      report('kernels', `checking ${path} against TensorFlow's convolutions`);
      return {
        built: true,
        path,
        ...(await step('kernels', 'checking the oneDNN convolutions', () => checkOneDnnConvolution(packageDir, path))),
      };
    }
    report('kernels', `compiling ${ONEDNN_CONVOLUTION_ADDON} (oneDNN convolutions) into ${dirname(path)}`);
    const build = await step('kernels', 'building the oneDNN convolutions', () =>
      buildOneDnnConvolution(packageDir, nodedir),
    );
    report(
      'kernels',
      build.built
        ? `oneDNN ${build.onednnVersion}, max |oneDNN − TensorFlow| ${build.maxDifference.toExponential(1)}`
        : `skipped, convolutions stay TensorFlow's: ${build.reason}`,
    );
    return build;
  };

  if (installedVersion(packageDir) === TFJS_NODE_VERSION) {
    if (!force) {
      const loaded = await verifyNativeBackend(packageName, projectDir).catch(() => undefined);
      if (loaded) return finish(loaded, await convolutions(false));
    }
    report('install', `${packageName}@${TFJS_NODE_VERSION} already installed`);
  } else {
    report('install', `npm install --no-save --ignore-scripts ${packageName}@${TFJS_NODE_VERSION}`);
    const args = [
      'install',
      '--no-save',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      `${packageName}@${TFJS_NODE_VERSION}`,
    ];
    await step('install', `installing ${packageName}@${TFJS_NODE_VERSION}`, () =>
      run('npm', args, { cwd: projectDir, maxBuffer: 1 << 26 }),
    );
  }

  const wheelDir = join(cacheDir, 'wheels');
  let wheel = rest.wheel ?? (await findCachedWheel(wheelDir, wheelName, tensorflowVersion));
  if (wheel) report('wheel', `using ${wheel}`);
  else {
    report(
      'wheel',
      `${python} -m pip download --no-deps --only-binary=:all: ${wheelName}==${tensorflowVersion} -d ${wheelDir}`,
    );
    wheel = await step('wheel', `downloading ${wheelName}==${tensorflowVersion} with pip`, () =>
      downloadWheel(python, wheelName, tensorflowVersion, wheelDir),
    );
  }

  const extracted = join(cacheDir, 'tensorflow', basename(wheel, '.whl'));
  if (!existsSync(join(extracted, 'tensorflow', 'include'))) {
    report(
      'extract',
      `libtensorflow_cc.so.2, libtensorflow_framework.so.2 and tensorflow/include from ${wheel} into ${extracted}`,
    );
    await step('extract', `extracting ${wheel}`, () => extractWheel(wheel!, extracted, python));
  }
  const layout = await step('extract', `laying out ${join(packageDir, 'deps')}`, () =>
    layOutNativeDeps(extracted, packageDir),
  );
  report('extract', `${layout.libDir}: libraries ${layout.libraries}, include → ${extracted}/tensorflow/include`);

  report(
    'compile',
    `node-pre-gyp install --build-from-source in ${packageDir}${nodedir ? ` (Node headers from ${nodedir})` : ''}`,
  );
  await step('compile', 'compiling the binding with node-pre-gyp', async () => {
    const nodePreGyp = join(
      dirname(createRequire(join(packageDir, 'package.json')).resolve('@mapbox/node-pre-gyp/package.json')),
      'bin',
      'node-pre-gyp',
    );
    const env = { ...process.env, ...(nodedir ? { npm_config_nodedir: nodedir } : {}) };
    return run(process.execPath, [nodePreGyp, 'install', '--build-from-source'], {
      cwd: packageDir,
      env,
      maxBuffer: 1 << 26,
    });
  });

  report(
    'verify',
    `loading ${packageName} in a child process and comparing conv2d, its gradients and matMul with the cpu backend`,
  );
  const verification = await step('verify', 'verifying the built binding', () =>
    verifyNativeBackend(packageName, projectDir),
  );
  return finish(verification, await convolutions(true));
}

function installedVersion(packageDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The installation prefix above the running node (`/usr`, `~/.nvm/versions/node/vX`) when it holds Node's headers. */
function nodeHeadersDir(): string | undefined {
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}
