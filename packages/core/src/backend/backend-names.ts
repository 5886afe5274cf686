// Imports nothing: the names are read by tools that must not load tfjs (@moco-robust/core/constants).

/** Backends moco-robust tries in Node, fastest first. */
export const BACKEND_NAMES = ['node-gpu', 'node', 'wasm', 'cpu'] as const;

/** Backends moco-robust tries in a browser, fastest first. */
export const BROWSER_BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/**
 * A backend name: `node-gpu` (@tensorflow/tfjs-node-gpu), `node` (@tensorflow/tfjs-node), `webgpu`, `webgl` (browsers
 * only), `wasm`, `cpu`.
 */
export type BackendName = (typeof BACKEND_NAMES)[number] | (typeof BROWSER_BACKEND_NAMES)[number];
