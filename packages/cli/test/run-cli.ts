// Test support for the CLI's end-to-end tests: they run the built binary as a user does (turbo builds it first; tests
// never rebuild it), with the CIFAR-10 sample from ../shared as MOCO_ROBUST_DATA.
import { type ChildProcess, type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cifarSampleDir, hideModulesHook } from '@moco-robust/testing';

/** The built CLI, `packages/cli/dist/bin.js`. */
export const CLI_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');

/** How a CLI run ended: its exit status (null when killed by a signal) and everything it printed. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Variables over {@link cliEnv}'s. */
  env?: NodeJS.ProcessEnv;
  /** A run still going after this long is killed (SIGTERM); default 5 minutes. */
  timeoutMs?: number;
}

/**
 * The environment of a CLI child: this process's, the CIFAR-10 sample as `MOCO_ROBUST_DATA` (empty when the sample is
 * missing), TensorFlow's C++ logging off, then `env`.
 */
export function cliEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, MOCO_ROBUST_DATA: cifarSampleDir() ?? '', TF_CPP_MIN_LOG_LEVEL: '3', ...env };
}

/** Runs the built CLI to its end, blocking (the test waits for the whole run). */
export function runCli(args: readonly string[], options: RunCliOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI_BIN, ...args], {
    encoding: 'utf8',
    env: cliEnv(options.env),
    timeout: options.timeoutMs ?? 300_000,
  });
}

/** Every tfjs package: {@link runCliWithoutTfjs} makes them unresolvable. */
const TFJS_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-cpu',
];

/**
 * Runs the built CLI with every tfjs package unresolvable (testing's module-hiding hook), to show that help and usage
 * errors never load tfjs — and that what needs it fails loudly. This process's environment, unchanged otherwise.
 */
export function runCliWithoutTfjs(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', hideModulesHook(), CLI_BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, MOCO_ROBUST_HIDE_MODULES: TFJS_PACKAGES.join(',') },
    timeout: 60_000,
  });
}

/** Runs the built CLI without blocking the event loop (cases side by side, or a test's HTTP server answering). */
export function runCliAsync(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env: cliEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Starts the built CLI in the background, to kill it mid-run: stdout ignored, stderr piped or ignored. */
export function startCli(args: readonly string[], stderr: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
  return spawn(process.execPath, [CLI_BIN, ...args], { env: cliEnv(), stdio: ['ignore', 'ignore', stderr] });
}

/** Waits for `child` to exit: its exit code or signal, and its stderr when that is piped. */
export function waitForExit(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The last line of a CLI's stderr: its one-line error message (TensorFlow's own start-up lines come first). */
export const lastLine = (stderr: string): string => stderr.trim().split('\n').at(-1) ?? '';
