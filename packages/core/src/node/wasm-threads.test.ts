import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { maxRelDiff } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, selectBackend } from '../index.node';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '../..');

function runWasm(threads: number) {
  const out = execFileSync(process.execPath, ['./test-fixtures/wasm-threads.mjs', String(threads)], {
    cwd: packageDir,
    env: { ...process.env, MOCO_ROBUST_WASM_THREADS: '' },
    encoding: 'utf8',
    timeout: 60_000, // a process held open by its threads fails here
    maxBuffer: 64 << 20,
  });
  return JSON.parse(out) as { threads: number; y: number[]; gx: number[]; gw: number[] };
}

describe('multi-threaded wasm in Node (real child processes, built package)', () => {
  it(
    'starts 2 XNNPACK threads, computes what one thread computes (forward, ' +
      'input and filter gradients through batch-norm), and exits on its own',
    () => {
      const two = runWasm(2);
      const one = runWasm(1);
      expect(two.threads).toBe(2);
      expect(one.threads).toBe(1);
      expect(two.y.length).toBe(8 * 16 * 16 * 32);
      expect(maxRelDiff(two.y, one.y)).toBeLessThan(1e-6);
      expect(maxRelDiff(two.gx, one.gx)).toBeLessThan(1e-5);
      expect(maxRelDiff(two.gw, one.gw)).toBeLessThan(1e-5);
    },
  );

  it('refuses a thread count tfjs cannot start, naming the option or the environment variable', async () => {
    for (const wasmThreads of [0, 9, 1.5]) {
      await expect(selectBackend({ backend: 'wasm', wasmThreads })).rejects.toThrow(InvalidArgumentError);
    }
    await expect(selectBackend({ backend: 'wasm', wasmThreads: 0 })).rejects.toThrow(
      /'wasmThreads'.*1 to 8.*got number 0/,
    );
    const out = execFileSync(process.execPath, ['./test-fixtures/select.mjs', 'wasm'], {
      cwd: packageDir,
      env: { ...process.env, MOCO_ROBUST_WASM_THREADS: 'lots' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(JSON.parse(out)).toMatchObject({ ok: false, message: expect.stringMatching(/MOCO_ROBUST_WASM_THREADS/) });
  });
});
