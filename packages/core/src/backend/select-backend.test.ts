import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hideModulesHook } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '../..');

function runSelect(options: { hide?: string[]; force?: string; env?: Record<string, string> } = {}) {
  const out = execFileSync(
    process.execPath,
    ['--import', hideModulesHook(), './test-fixtures/select.mjs', ...(options.force ? [options.force] : [])],
    {
      cwd: packageDir,
      env: {
        ...process.env,
        MOCO_ROBUST_BACKEND: '',
        MOCO_ROBUST_HIDE_MODULES: (options.hide ?? []).join(','),
        ...options.env,
      },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return JSON.parse(out);
}

describe('selectBackend (real child processes, built package)', () => {
  it("starts the native backend on TensorFlow's BFC allocator unless the environment says otherwise", () => {
    // TensorFlow logs the allocator's creation at verbosity 1 of bfc_allocator.cc. Its BFC CPU allocator is named
    // bfc_cpu_allocator_for_gpu; without it, TensorFlow's oneDNN build may still create its own pool ("mklcpu") on
    // hosts where its CPU allocator is oneDNN's.
    const start = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['./test-fixtures/select.mjs', 'node'], {
        cwd: packageDir,
        env: {
          ...process.env,
          MOCO_ROBUST_BACKEND: '',
          TF_CPP_MIN_LOG_LEVEL: '0',
          TF_CPP_VMODULE: 'bfc_allocator=1',
          ...env,
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const chosen = start({});
    expect(JSON.parse(chosen.stdout).selection.name).toBe('node');
    expect(chosen.stderr).toMatch(/Creating new BFCAllocator named: bfc_cpu_allocator/);
    const refused = start({ TF_CPU_ALLOCATOR_USE_BFC: 'false' });
    expect(JSON.parse(refused.stdout).selection.name).toBe('node');
    expect(refused.stderr).not.toMatch(/BFCAllocator named: bfc_cpu_allocator/);
  });

  it('falls through to wasm when the native packages are absent, and says why', () => {
    const result = runSelect({ hide: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] });
    expect(result.ok).toBe(true);
    expect(result.selection.name).toBe('wasm');
    expect(result.selection.tfBackend).toBe('wasm');
    expect(result.selection.reason).toBe('first-that-loads');
    const [gpu, node, wasm] = result.selection.attempts;
    expect(gpu).toMatchObject({ name: 'node-gpu', ok: false });
    expect(gpu.reason).toBe('@tensorflow/tfjs-node-gpu is not installed');
    expect(node).toMatchObject({ name: 'node', ok: false });
    expect(wasm).toMatchObject({ name: 'wasm', ok: true });
  });

  it('falls through to cpu when wasm is absent too', () => {
    const result = runSelect({
      hide: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm'],
    });
    expect(result.selection.name).toBe('cpu');
    expect(result.selection.attempts.map((a: { ok: boolean }) => a.ok)).toEqual([false, false, false, true]);
  });

  it('gives a clear typed error naming what to install when a forced backend cannot load', () => {
    const result = runSelect({ hide: ['@tensorflow/tfjs-node'], force: 'node' });
    expect(result.ok).toBe(false);
    expect(result.isMocoRobustError).toBe(true);
    expect(result.name).toBe('BackendUnavailableError');
    expect(result.backend).toBe('node');
    expect(result.message).toMatch(/Backend 'node' \(@tensorflow\/tfjs-node\) could not be loaded/);
    expect(result.message).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0 --ignore-scripts/);
  });

  it('is forced by MOCO_ROBUST_BACKEND and rejects unknown names', () => {
    expect(runSelect({ env: { MOCO_ROBUST_BACKEND: 'cpu' } }).selection).toMatchObject({
      name: 'cpu',
      reason: 'forced-by-environment',
    });
    const bad = runSelect({ env: { MOCO_ROBUST_BACKEND: 'tpu' } });
    expect(bad.ok).toBe(false);
    expect(bad.message).toMatch(
      /Invalid argument 'MOCO_ROBUST_BACKEND': expected one of node-gpu, node, wasm, cpu, got string "tpu"/,
    );
  });
});
