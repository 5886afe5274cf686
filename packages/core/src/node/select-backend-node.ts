import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import {
  assertWasmThreads,
  selectBackendWith,
  type BackendSelection,
  type NodeHooks,
  type SelectBackendOptions,
  type WasmThreading,
} from '../backend/select-backend';
import { loadOneDnnConvolution, preferEigenBesideOneDnnConvolution } from './onednn-convolution-addon';
import { MAX_WASM_THREADS, withWasmThreads } from './wasm-threads';

const wasmThreading: WasmThreading = {
  defaultThreads() {
    const fromEnvironment = process.env.MOCO_ROBUST_WASM_THREADS;
    if (fromEnvironment) {
      const threads = Number(fromEnvironment);
      assertWasmThreads(threads, 'MOCO_ROBUST_WASM_THREADS');
      return threads;
    }
    return Math.min(availableParallelism(), MAX_WASM_THREADS);
  },
  run: (threads, initialise) =>
    withWasmThreads(threads, initialise, () => (tf.findBackend('wasm') as { wasm?: object } | null)?.wasm),
};

const nodeHooks: NodeHooks = {
  wasmThreading,
  loadOneDnnConvolution,
  beforeNativeCpuLoad: preferEigenBesideOneDnnConvolution,
};

/**
 * Picks and activates the fastest tfjs backend that loads (see the browser entry's `selectBackend`);
 * in Node the wasm backend runs tfjs's multi-threaded SIMD build on `wasmThreads` threads (default
 * `MOCO_ROBUST_WASM_THREADS`, else every core up to 8), falling back to one thread if it cannot start.
 */
export function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  return selectBackendWith(nodeHooks, options);
}
