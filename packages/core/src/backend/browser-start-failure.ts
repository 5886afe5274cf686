import * as tf from '@tensorflow/tfjs-core';

/**
 * A backend whose package loaded but which tfjs could not start (`tf.setBackend` answered false, or no factory was
 * registered). tfjs only logs the cause to the console; {@link browserStartFailure} finds it. @internal
 */
export class BackendStartError extends Error {
  override name = 'BackendStartError';
}

interface NavigatorWithGpu {
  gpu?: { requestAdapter(): Promise<unknown> };
}

/**
 * Why `tfBackend` could not start in this browser, in a user's words (undefined when no cause is found). Asked only
 * after the start failed: wasm's `.wasm` binary not served where tfjs looks for it (`wasmPaths`, default beside the
 * page), no WebGPU adapter, no WebGL context.
 */
export async function browserStartFailure(
  tfBackend: string,
  wasmPaths: string | undefined,
): Promise<string | undefined> {
  try {
    if (tfBackend === 'wasm') return await wasmBinaryFailure(wasmPaths);
    if (tfBackend === 'webgpu') return await webGpuFailure();
    if (tfBackend === 'webgl' && typeof document === 'undefined' && typeof OffscreenCanvas === 'undefined')
      return 'no canvas to draw WebGL on (neither document nor OffscreenCanvas exists here)';
    if (tfBackend === 'webgl' && tf.env().getNumber('WEBGL_VERSION') === 0)
      return (
        'no WebGL context could be created (neither WebGL 2 nor WebGL 1: no GPU or software renderer, or WebGL is ' +
        'disabled)'
      );
  } catch {
    // the diagnosis itself failed: the caller keeps tfjs's own answer
  }
  return undefined;
}

/** The binary tfjs's wasm backend fetches on this browser, and whether the server answers for it. */
async function wasmBinaryFailure(wasmPaths: string | undefined): Promise<string | undefined> {
  const [simd, threads] = await Promise.all([
    tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
  ]);
  const file = `tfjs-backend-wasm${simd ? (threads ? '-threaded-simd' : '-simd') : ''}.wasm`;
  const url = new URL(file, wasmPaths ?? new URL('./', globalThis.location.href)).href;
  const fix =
    'serve the .wasm files of @tensorflow/tfjs-backend-wasm/dist there, or pass the folder that holds them as ' +
    '`wasmPaths`';
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `the wasm binary ${url} could not be fetched (${message}): ${fix}`;
  }
  await response.body?.cancel();
  if (!response.ok) return `the wasm binary ${url} was not found (HTTP ${response.status}): ${fix}`;
  return undefined;
}

async function webGpuFailure(): Promise<string | undefined> {
  const gpu = (globalThis.navigator as NavigatorWithGpu | undefined)?.gpu;
  if (gpu === undefined)
    return 'this browser has no WebGPU (navigator.gpu is undefined: it needs a secure context and WebGPU enabled)';
  if ((await gpu.requestAdapter()) === null)
    return 'WebGPU has no adapter (navigator.gpu.requestAdapter() gave none: no usable GPU, or GPU access is disabled)';
  return undefined;
}
