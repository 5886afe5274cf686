import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, InvalidArgumentError } from '../errors/errors';
import { emit, type EventListener } from '../events/events';
import { registerGradients } from '../tensor/gradients';
import { releaseGradientMemory } from './release-gradient-memory';
import { BackendStartError, browserStartFailure } from './browser-start-failure';

import { BACKEND_NAMES, BROWSER_BACKEND_NAMES, type BackendName } from './backend-names';

export { BACKEND_NAMES, BROWSER_BACKEND_NAMES, type BackendName };

/** Why a candidate backend was or was not chosen. */
export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** The package that provides it. */
  packageName: string;
  /** Why it failed (the error message), when it did. */
  reason?: string;
  /** Load time in milliseconds. */
  milliseconds: number;
}

/** Result of {@link selectBackend}. */
export interface BackendSelection {
  /** The chosen backend. */
  name: BackendName;
  /** tfjs's name for it (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** Every candidate tried, in order. */
  attempts: BackendAttempt[];
  /** How the choice was made. */
  reason: 'forced-by-option' | 'forced-by-environment' | 'first-that-loads';
  /** wasm only: threads of XNNPACK's pool (2+ when the multi-threaded build started). */
  threads?: number;
  /**
   * node only: whose convolutions run — `oneDNN 2.6.3` when the binding was built with moco-robust's oneDNN
   * convolutions (`buildNativeBackend`, with libdnnl installed), else `TensorFlow` and why not.
   */
  convolution?: string;
}

/** What {@link selectBackend} emits once it has picked a backend (the CLI prints it and logs it). */
export type BackendSelectedEvent = { type: 'backend-selected'; selection: BackendSelection };

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /**
   * Use exactly this backend (or throw a {@link BackendUnavailableError} naming what to install). Overrides the
   * environment variable.
   */
  backend?: BackendName;
  /**
   * Candidates in order; default {@link BACKEND_NAMES} in Node, {@link BROWSER_BACKEND_NAMES} in a browser (where
   * native ones are skipped, and backends the page already registered with tfjs, except cpu, are tried first).
   */
  candidates?: readonly BackendName[];
  /**
   * Browser: how to load a backend's package, e.g. `{ webgl: () => import('@tensorflow/tfjs-backend-webgl') }` — a
   * bundler resolves only literal specifiers. Without one, a backend the page has not registered is imported by name
   * (which works with an import map); wasm and cpu (dependencies of this package) need none.
   */
  loaders?: Partial<Record<BackendName, () => Promise<unknown>>>;
  /**
   * Browser: where the wasm backend's `.wasm` files are served (a URL prefix ending in `/`, passed to tfjs's
   * `setWasmPaths`); default: beside the page.
   */
  wasmPaths?: string;
  /** Environment variable that forces a backend; default `MOCO_ROBUST_BACKEND`. */
  environmentVariable?: string;
  onEvent?: EventListener<BackendSelectedEvent>;
  /**
   * wasm in Node: threads for XNNPACK (tfjs's multi-threaded SIMD build, which tfjs itself does not
   * start in Node). Default: the `MOCO_ROBUST_WASM_THREADS` environment variable, else every core
   * (`os.availableParallelism()`, at most 8); `1` keeps the single-threaded build. In a browser, tfjs loads its
   * multi-threaded build on a cross-origin isolated page; the threads then default to
   * `navigator.hardwareConcurrency`.
   */
  wasmThreads?: number;
}

/** How the Node entry starts wasm's threads (absent in browsers). @internal */
export interface WasmThreading {
  defaultThreads(): number;
  /** Runs `initialise` with the glue able to start `threads` pthreads in Node. */
  run<T>(threads: number, initialise: () => Promise<T>): Promise<T>;
}

/** What only the Node entry can do (absent in browsers). @internal */
export interface NodeHooks {
  wasmThreading: WasmThreading;
  /** Loads the native backend's oneDNN convolution ops; their oneDNN version, or why they are not there. */
  loadOneDnnConvolution(): { version: string } | { missing: string };
  /** Sets what TensorFlow reads when the native CPU binding loads, for the convolutions that will be loaded. */
  beforeNativeCpuLoad(): void;
}

interface LoadContext {
  node?: NodeHooks;
  threading?: WasmThreading;
  wasmThreads?: number;
  wasmPaths?: string;
}

interface Candidate {
  packageName: string;
  tfBackend: string;
  install: string;
  /** Loads the package and activates its backend; wasm returns its thread count. */
  load: (context: LoadContext) => Promise<unknown>;
  /**
   * Registers moco-robust's kernels and gradients for this backend, after tfjs's own gradients; returns what the
   * selection reports of them.
   */
  registerTraining?: (node: NodeHooks | undefined) => Promise<Partial<BackendSelection> | undefined>;
}

const nativeInstall = (pkg: string, variant: string) =>
  `Install it with \`npm install ${pkg}@4.22.0 --ignore-scripts\` and build its binding from a TensorFlow wheel with ` +
  `\`npx moco-robust backend build --variant ${variant}\` (or \`npm run native:build\` in the moco-robust repository).`;

const candidates: Record<BackendName, Candidate> = {
  'node-gpu': {
    packageName: '@tensorflow/tfjs-node-gpu',
    tfBackend: 'tensorflow',
    install: nativeInstall('@tensorflow/tfjs-node-gpu', 'gpu'),
    load: () => importOptional('@tensorflow/tfjs-node-gpu'),
    registerTraining: registerNativeTraining,
  },
  node: {
    packageName: '@tensorflow/tfjs-node',
    tfBackend: 'tensorflow',
    install: nativeInstall('@tensorflow/tfjs-node', 'cpu'),
    load: (context) => {
      preferBfcAllocator();
      context.node?.beforeNativeCpuLoad();
      return importOptional('@tensorflow/tfjs-node');
    },
    registerTraining: async (node) => {
      await registerNativeTraining();
      const { registerAffineBatchNorm } = await import('./node-batch-norm');
      registerAffineBatchNorm();
      if (node === undefined) return undefined;
      const { registerOneDnnConvolution } = await import('./node-onednn-convolution');
      return { convolution: registerOneDnnConvolution(node.loadOneDnnConvolution) };
    },
  },
  wasm: {
    packageName: '@tensorflow/tfjs-backend-wasm',
    tfBackend: 'wasm',
    install: 'Install it with `npm install @tensorflow/tfjs-backend-wasm@4.22.0`.',
    load: loadWasm,
    registerTraining: registerWasmTraining,
  },
  cpu: {
    packageName: '@tensorflow/tfjs-backend-cpu',
    tfBackend: 'cpu',
    install: 'Install it with `npm install @tensorflow/tfjs-backend-cpu@4.22.0`.',
    load: () => importOptional('@tensorflow/tfjs-backend-cpu'),
  },
  webgpu: {
    packageName: '@tensorflow/tfjs-backend-webgpu',
    tfBackend: 'webgpu',
    install: "Import '@tensorflow/tfjs-backend-webgpu' in the page (a browser with WebGPU enabled is needed).",
    load: () => importOptional('@tensorflow/tfjs-backend-webgpu'),
  },
  webgl: {
    packageName: '@tensorflow/tfjs-backend-webgl',
    tfBackend: 'webgl',
    install: "Import '@tensorflow/tfjs-backend-webgl' in the page (a browser with WebGL 2 or 1 is needed).",
    load: () => importOptional('@tensorflow/tfjs-backend-webgl'),
  },
};

/**
 * The browser's way to load each candidate: a backend the page registered needs no loading; the page's own loader
 * comes next; wasm and cpu, this package's dependencies, are imported by literal specifiers a bundler resolves.
 */
function browserLoad(name: BackendName, candidate: Candidate, options: SelectBackendOptions): Candidate['load'] {
  if (tf.findBackendFactory(candidate.tfBackend) !== null) return async () => undefined;
  const loader = options.loaders?.[name];
  if (loader) return loader;
  if (name === 'cpu') return () => import('@tensorflow/tfjs-backend-cpu');
  if (name === 'wasm') return (context) => loadWasmInBrowser(context);
  return candidate.load;
}

async function loadWasmInBrowser(context: LoadContext): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (context.wasmPaths !== undefined) wasm.setWasmPaths(context.wasmPaths);
  // A cross-origin isolated page can share memory with workers: tfjs then loads its multi-threaded build. Its
  // XNNPACK pool is capped at half of `navigator.hardwareConcurrency` (one thread on 2 cores), so, as the Node entry
  // does with `os.cpus`, the page's navigator reports twice the threads wanted while the backend starts.
  const navigator = globalThis.navigator;
  const threads = context.wasmThreads ?? navigator?.hardwareConcurrency ?? 1;
  if (globalThis.crossOriginIsolated !== true || threads < 2 || !navigator) {
    await activate('wasm');
    return wasm.getThreadsCount();
  }
  wasm.setThreadsCount(threads);
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  try {
    await activate('wasm');
  } finally {
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency; // the prototype's getter again
  }
  return wasm.getThreadsCount();
}

interface WasmPackage {
  setThreadsCount(threads: number): void;
  getThreadsCount(): number;
}

/** Loads wasm — multi-threaded in Node when the Node entry supplies `threading` — and returns its thread count. */
async function loadWasm(context: LoadContext): Promise<number> {
  const wasm = (await importOptional('@tensorflow/tfjs-backend-wasm')) as WasmPackage;
  const threads = context.threading ? (context.wasmThreads ?? context.threading.defaultThreads()) : 1;
  if (threads > 1 && context.threading && tf.findBackend('wasm') === null) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    try {
      await context.threading.run(threads, () => activate('wasm'));
    } catch {
      // the threaded build did not start: the single-threaded one still works
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasm.setThreadsCount(1);
      await activate('wasm');
    }
  } else {
    await activate('wasm');
  }
  return wasm.getThreadsCount();
}

async function registerWasmTraining(): Promise<undefined> {
  const { registerWasmTrainingKernels } = await import('./wasm/register-wasm-training-kernels');
  registerWasmTrainingKernels();
  return undefined;
}

/**
 * TensorFlow's own best-fit-with-coalescing allocator for the native CPU backend's tensors, unless the environment
 * already chooses (`TF_CPU_ALLOCATOR_USE_BFC=false` keeps TensorFlow's default: glibc's malloc, or on some hosts the
 * oneDNN build's own pool). TensorFlow reads the variable once, when the
 * binding loads, so it is set just before. With malloc, a tensor above glibc's (moving) mmap threshold costs an `mmap`,
 * page faults and a `munmap` every time, and the smaller ones stay fragmented in its arenas: a batch-128 ResNet-18
 * MoCo-PGD-10 step peaked at 3.0 GiB with 1.3 million page faults per step, 2.4 GiB with this allocator and a sixth
 * of the faults (docs/performance-notes.md #25). Its limit (`TF_CPU_BFC_MEM_LIMIT_IN_MB`) is TensorFlow's default.
 */
function preferBfcAllocator(): void {
  const environment = typeof process === 'undefined' ? undefined : process.env;
  if (environment !== undefined && environment.TF_CPU_ALLOCATOR_USE_BFC === undefined)
    environment.TF_CPU_ALLOCATOR_USE_BFC = 'true';
}

async function importOptional(name: string): Promise<unknown> {
  return import(/* @vite-ignore */ name);
}

async function registerNativeTraining(): Promise<undefined> {
  const { registerNodeTrainingKernels } = await import('./register-node-training-kernels');
  registerNodeTrainingKernels();
  return undefined;
}

async function activate(tfBackend: string): Promise<void> {
  if (tf.findBackendFactory(tfBackend) === null)
    throw new BackendStartError(`the package loaded but registered no '${tfBackend}' backend`);
  const ok = await tf.setBackend(tfBackend);
  if (!ok) throw new BackendStartError(`tf.setBackend('${tfBackend}') failed to initialise the backend`);
  await tf.ready();
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * Picks and activates the fastest tfjs backend that loads — `@tensorflow/tfjs-node-gpu`,
 * `@tensorflow/tfjs-node`, `@tensorflow/tfjs-backend-wasm` (with moco-robust's training kernels
 * registered), then `@tensorflow/tfjs-backend-cpu` — each loaded with a dynamic `import()`.
 * Records why each candidate failed, registers tfjs's gradients (through tfjs-layers when installed) and makes them
 * free memory as the backward pass goes ({@link releaseGradientMemory}).
 * `options.backend` or the `MOCO_ROBUST_BACKEND` environment
 * variable forces one, and a forced backend that cannot load throws a {@link BackendUnavailableError}
 * naming the package to install.
 */
export function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  return selectBackendWith(undefined, options);
}

/** {@link selectBackend} with the Node entry's way of starting wasm's threads. @internal */
export async function selectBackendWith(
  node: NodeHooks | undefined,
  options: SelectBackendOptions,
  inBrowser = !isNode,
): Promise<BackendSelection> {
  if (options.wasmThreads !== undefined) assertWasmThreads(options.wasmThreads, 'wasmThreads');
  const variable = options.environmentVariable ?? 'MOCO_ROBUST_BACKEND';
  const fromEnvironment = isNode ? process.env[variable] : undefined;
  const forced = options.backend ?? (fromEnvironment ? (fromEnvironment as BackendName) : undefined);
  const valid: readonly BackendName[] = inBrowser ? BROWSER_BACKEND_NAMES : BACKEND_NAMES;
  if (forced !== undefined && !valid.includes(forced)) {
    throw new InvalidArgumentError({
      argument: options.backend !== undefined ? 'backend' : variable,
      expected: `one of ${valid.join(', ')}`,
      received: forced,
    });
  }
  const order = forced ? [forced] : candidateOrder(options, inBrowser);
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    const candidate = candidates[name];
    const started = performance.now();
    try {
      const load = inBrowser ? browserLoad(name, candidate, options) : candidate.load;
      const threads = await load({
        ...(node !== undefined ? { node } : {}),
        threading: node?.wasmThreading,
        wasmThreads: options.wasmThreads,
        wasmPaths: options.wasmPaths,
      });
      await activate(candidate.tfBackend);
      await registerGradients();
      releaseGradientMemory();
      const kernels = await candidate.registerTraining?.(node);
      attempts.push({ name, ok: true, packageName: candidate.packageName, milliseconds: performance.now() - started });
      const selection: BackendSelection = {
        name,
        tfBackend: candidate.tfBackend,
        attempts,
        reason:
          options.backend !== undefined ? 'forced-by-option' : forced ? 'forced-by-environment' : 'first-that-loads',
        ...(typeof threads === 'number' ? { threads } : {}),
        ...kernels,
      };
      emit(options.onEvent, { type: 'backend-selected', selection });
      return selection;
    } catch (error) {
      // tfjs only logs why a backend failed to start: in a browser, find the cause (e.g. wasm's binary not served)
      const loaded = error instanceof BackendStartError;
      const cause = inBrowser && loaded ? await browserStartFailure(candidate.tfBackend, options.wasmPaths) : undefined;
      const reason = cause ?? reasonOf(error, candidate.packageName);
      attempts.push({
        name,
        ok: false,
        packageName: candidate.packageName,
        reason,
        milliseconds: performance.now() - started,
      });
      if (forced) {
        throw new BackendUnavailableError({
          backend: name,
          // wasm and cpu come with this package: once loaded, installing them again fixes nothing
          message:
            `Backend '${name}' (${candidate.packageName}) could not be ${loaded ? 'started' : 'loaded'}: ${reason}.` +
            (loaded && (name === 'wasm' || name === 'cpu') ? '' : ` ${candidate.install}`),
          cause: error,
        });
      }
    }
  }
  throw new BackendUnavailableError({
    backend: order.join(','),
    message: `No tfjs backend could be loaded: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`,
  });
}

/**
 * The candidates to try: in Node the given order (default {@link BACKEND_NAMES}); in a browser the native ones
 * dropped, and those the page already registered with tfjs (but cpu) first (default {@link BROWSER_BACKEND_NAMES}).
 */
function candidateOrder(options: SelectBackendOptions, inBrowser: boolean): BackendName[] {
  if (!inBrowser) return [...(options.candidates ?? BACKEND_NAMES)];
  const names = (options.candidates ?? BROWSER_BACKEND_NAMES).filter((n) => n !== 'node' && n !== 'node-gpu');
  // cpu stays last: many imports register it as a side effect (it is every other backend's fallback)
  const registered = (n: BackendName) => n !== 'cpu' && tf.findBackendFactory(candidates[n].tfBackend) !== null;
  return [...names.filter(registered), ...names.filter((n) => !registered(n))];
}

/** Throws unless `threads` is a whole number of wasm threads tfjs can start (1–8). @internal */
export function assertWasmThreads(threads: number, argument: string): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > 8) {
    throw new InvalidArgumentError({
      argument,
      expected: 'a whole number of threads from 1 to 8 (tfjs pre-creates 8 wasm threads)',
      received: threads,
    });
  }
}

/** Why a candidate failed, in a user's words: `not installed` when the package itself is missing. */
function reasonOf(error: unknown, packageName: string): string {
  const code = (error as { code?: string })?.code;
  const message = firstLine(error);
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${packageName}'`))
    return `${packageName} is not installed`;
  return message;
}

function firstLine(error: unknown): string {
  // tfjs's wasm loader rejects with a plain `{ message }` object
  const message =
    error instanceof Error
      ? error.message
      : typeof (error as { message?: unknown })?.message === 'string'
        ? (error as { message: string }).message
        : String(error);
  return message.split('\n')[0].slice(0, 300);
}
