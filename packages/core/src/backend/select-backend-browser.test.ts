import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { selectBackendWith } from './select-backend';

// The browser path of selectBackend, driven from Node (`inBrowser = true`); the playground's Playwright test
// (packages/cli/test/playground.test.ts) runs the same path in a real Chromium.
const inBrowser = true;

describe('selectBackend in a browser', () => {
  afterEach(() => {
    for (const name of ['webgpu', 'webgl']) if (tf.findBackendFactory(name) !== null) tf.removeBackend(name);
  });

  it('tries webgpu, then webgl, then wasm, and records why each one it skipped failed', async () => {
    const selection = await selectBackendWith(undefined, {}, inBrowser);
    // Node has neither WebGPU nor WebGL: both packages import, but their backends cannot start
    expect(selection.attempts.map((a) => a.name)).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(selection.name).toBe('wasm');
    expect(selection.reason).toBe('first-that-loads');
    for (const skipped of selection.attempts.slice(0, 2)) {
      expect(skipped.ok).toBe(false);
      expect(skipped.reason).toMatch(/.+/);
    }
    expect(tf.getBackend()).toBe('wasm');
  });

  it('tries a backend the page already registered before the ones it would have to load', async () => {
    tf.registerBackend('webgl', () => new MathBackendCPU());
    const selection = await selectBackendWith(undefined, { candidates: ['webgpu', 'webgl', 'cpu'] }, inBrowser);
    expect(selection.name).toBe('webgl');
    expect(selection.attempts.map((a) => a.name)).toEqual(['webgl']);
  });

  it("uses the page's loader and reports its failure as the reason", async () => {
    const selection = await selectBackendWith(
      undefined,
      { candidates: ['webgpu', 'cpu'], loaders: { webgpu: () => Promise.reject(new Error('no WebGPU adapter')) } },
      inBrowser,
    );
    expect(selection.attempts[0]).toMatchObject({ name: 'webgpu', ok: false, reason: 'no WebGPU adapter' });
    expect(selection.name).toBe('cpu');
  });

  it('never tries the native backends in a browser, even when asked', async () => {
    const selection = await selectBackendWith(undefined, { candidates: ['node', 'node-gpu', 'cpu'] }, inBrowser);
    expect(selection.attempts.map((a) => a.name)).toEqual(['cpu']);
  });

  it('throws a typed error naming what to import when a forced browser backend cannot start', async () => {
    await expect(selectBackendWith(undefined, { backend: 'webgl' }, inBrowser)).rejects.toMatchObject({
      name: 'BackendUnavailableError',
      message: expect.stringContaining("Import '@tensorflow/tfjs-backend-webgl'"),
    });
  });
});
