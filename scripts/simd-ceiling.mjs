#!/usr/bin/env node
// The arithmetic ceiling of this host for native code and for WebAssembly, measured side by side: GFLOP/s of
// independent multiply-add chains at each native SIMD width (AVX-512 and AVX2 fused multiply-adds, 128-bit multiply
// then add) and in wasm's 128-bit SIMD (multiply then add: no fused one without relaxed SIMD), on 1..N threads —
// the bound behind docs/benchmarks.md's wasm section: PyTorch's convolutions run on the widest native SIMD, tfjs's
// wasm backend (XNNPACK) on wasm's. Needs gcc (as `npm run native:build` does) and clang with lld's wasm-ld
// (`apt-get install clang lld`).
//
//   node scripts/simd-ceiling.mjs [threads=cores] [iterations=100000000]
//
// A measurement, never a test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const FLOPS_PER_ITERATION = 12 * 4 * 2; // 12 chains of a four-lane multiply and add

if (!isMainThread) {
  // one thread of the wasm measurement: compile, warm up until optimised, wait for the others, time its own run
  const { bytes, iterations, barrier } = workerData;
  const { instance } = await WebAssembly.instantiate(bytes);
  for (let i = 0; i < 20; i++) instance.exports.peak(iterations / 100, 0.999);
  const counter = new Int32Array(barrier);
  Atomics.add(counter, 0, 1);
  while (Atomics.load(counter, 0) < Atomics.load(counter, 1)) Atomics.wait(counter, 0, Atomics.load(counter, 0), 1);
  const start = performance.now();
  instance.exports.peak(iterations, 0.999);
  parentPort.postMessage((iterations * FLOPS_PER_ITERATION) / ((performance.now() - start) * 1e6));
} else {
  const [threadsArg, iterationsArg = '100000000'] = process.argv.slice(2);
  const maxThreads = Number(threadsArg ?? availableParallelism());
  const iterations = Number(iterationsArg);
  const source = (name) => fileURLToPath(new URL(`./simd-ceiling/${name}`, import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'simd-ceiling-'));
  const run = (command, args) =>
    execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const native = join(dir, 'native-peak');
    run('gcc', ['-O3', '-march=native', '-fopenmp', source('native-peak.c'), '-o', native]);
    const wasm = join(dir, 'wasm-peak.wasm');
    run('clang', [
      '--target=wasm32',
      '-msimd128',
      '-O3',
      '-nostdlib',
      '-Wl,--no-entry',
      source('wasm-peak.c'),
      '-o',
      wasm,
    ]);
    const rows = run(native, [String(maxThreads), String(iterations)])
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    const bytes = readFileSync(wasm);
    for (let threads = 1; threads <= maxThreads; threads++) {
      const barrier = new SharedArrayBuffer(8);
      new Int32Array(barrier)[1] = threads;
      const rates = await Promise.all(
        Array.from(
          { length: threads },
          () =>
            new Promise((resolve, reject) =>
              new Worker(new URL(import.meta.url), { workerData: { bytes, iterations, barrier } })
                .on('message', resolve)
                .on('error', reject),
            ),
        ),
      );
      rows.push(['wasm', 'SIMD128 multiply + add', String(threads), rates.reduce((a, b) => a + b, 0).toFixed(1)]);
    }
    const widest = (threads) =>
      Math.max(...rows.filter((r) => r[0] === 'native' && r[2] === threads).map((r) => +r[3]));
    process.stdout.write('code\tinstructions\tthreads\tGFLOP/s\t× widest native\n');
    for (const [code, kind, threads, gflops] of rows)
      process.stdout.write(`${code}\t${kind}\t${threads}\t${gflops}\t${(+gflops / widest(threads)).toFixed(2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
