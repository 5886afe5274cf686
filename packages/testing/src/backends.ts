import * as tf from '@tensorflow/tfjs-core';

/** Backends a numeric suite runs on: always cpu and wasm; `node` when tfjs-node is installed and loads. */
export async function availableTestBackends(): Promise<string[]> {
  const names = ['cpu', 'wasm'];
  try {
    await import('@tensorflow/tfjs-backend-cpu');
    await import('@tensorflow/tfjs-backend-wasm');
  } catch {
    // both are dependencies of core; a failure here surfaces in the tests themselves
  }
  if (await tryImport('@tensorflow/tfjs-node')) names.push('tensorflow');
  return names.filter((n) => tf.findBackendFactory(n) !== null);
}

async function tryImport(name: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ name);
    return true;
  } catch {
    return false;
  }
}

/** Switches tfjs to `name` and waits until it is ready. */
export async function useBackend(name: string): Promise<void> {
  if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`Backend ${name} failed to initialise`);
  await tf.ready();
}

/** Runs `fn` and returns how many tensors it leaked (0 expected). */
export async function leakedTensors(fn: () => unknown | Promise<unknown>): Promise<number> {
  const before = tf.memory().numTensors;
  await fn();
  return tf.memory().numTensors - before;
}

/**
 * Activates the fastest backend that can train convnets here, for learning tests (DESIGN: they run
 * once, on the fastest backend): the native backend when it loads, else what `selectBackend` picks
 * (wasm with moco-robust's training kernels), else cpu. Returns its tfjs name.
 */
export async function useFastestBackend(): Promise<string> {
  // resolved at run time from the workspace (a build-time dependency on core would be a cycle)
  const coreName = '@moco-robust/core';
  const { selectBackend } = (await import(/* @vite-ignore */ coreName)) as {
    selectBackend(): Promise<{ tfBackend: string }>;
  };
  try {
    const selection = await selectBackend();
    return selection.tfBackend;
  } catch {
    await useBackend('cpu');
    return 'cpu';
  }
}

/** The TensorFlow ops the native backend (`tensorflow`) runs by name inside `f`, in order. */
export function nativeOpsRun(f: () => void): string[] {
  const backend = tf.backend() as unknown as { executeSingleOutput: (name: string, ...rest: unknown[]) => unknown };
  const original = backend.executeSingleOutput;
  const names: string[] = [];
  backend.executeSingleOutput = function (this: unknown, name: string, ...rest: unknown[]) {
    names.push(name);
    return original.call(this, name, ...rest);
  };
  try {
    f();
  } finally {
    backend.executeSingleOutput = original;
  }
  return names;
}
