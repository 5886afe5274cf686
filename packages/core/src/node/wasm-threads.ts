// Starting tfjs-backend-wasm's multi-threaded (pthreads + SIMD) build in Node.
//
// tfjs 4.22 ships `tfjs-backend-wasm-threaded-simd.wasm` and an Emscripten glue that supports Node's
// worker_threads, but refuses to use it in Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false there) and,
// if forced, fails three ways: it hands `new Worker()` a `blob:` URL (Node wants a file path), it
// posts the module's source to each thread as a `Blob` that the thread then tries to read as a file,
// and XNNPACK's pool is capped at `os.cpus().length / 2` threads (1 on a 2-core machine). This module
// writes the thread script to a file (with a prologue that reads the posted source), lends the glue
// that path and the thread count for the duration of the backend's initialisation, and unrefs the
// threads so they never keep a process alive.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

const requireFromHere = createRequire(import.meta.url);
/** The CommonJS `os` object: the same one the wasm glue calls `cpus()` on (an ESM namespace is read-only). */
const os = requireFromHere('node:os') as typeof import('node:os');

/** tfjs pre-creates 8 pthread workers; XNNPACK's pool cannot use more. */
export const MAX_WASM_THREADS = 8;

const EVALUATED = 'moco-robust:module-source-evaluated';

interface WasmModuleWithThreads {
  PThread?: { runningWorkers: Array<{ unref(): void }>; unusedWorkers: Array<{ unref(): void }> };
}

/**
 * Writes (once per content) the pthread worker script for the installed tfjs-backend-wasm and
 * returns its path. The script is tfjs's own worker source preceded by a prologue that evaluates
 * the module source posted as a `Blob` (with the bundle's `require$$N` / `commonjsGlobal` names
 * defined) before the glue sees the message.
 */
export function wasmThreadScript(): string {
  const distFile = requireFromHere.resolve('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js');
  const bundle = readFileSync(distFile, 'utf8');
  const literal = /var wasmWorkerContents = ("(?:[^"\\]|\\.)*");/.exec(bundle)?.[1];
  if (!literal)
    throw new Error(`the pthread worker source was not found in ${distFile} (tfjs-backend-wasm 4.22.0 expected)`);
  // The bundle turns real newlines in the source into "\n" before making its Blob; do the same.
  const workerSource = (runInNewContext(literal) as string).replace(/\n/g, '\\n');
  const bindings = [...bundle.matchAll(/^var (require\$\$\d+) = require\('([\w:/]+)'\);$/gm)].map(
    ([, name, module]) => `${name} = require(${JSON.stringify(module)})`,
  );
  bindings.push('commonjsGlobal = globalThis');
  const prologue = `"use strict";
{
  const { parentPort } = require("worker_threads");
  const listen = parentPort.on.bind(parentPort);
  let pending = Promise.resolve();
  parentPort.on = (event, handler) => {
    if (event !== "message") return listen(event, handler);
    return listen("message", (data) => {
      pending = pending.then(async () => {
        if (data && data.cmd === "load" && typeof data.urlOrBlob !== "string") {
          (0, eval)(${JSON.stringify(`var ${bindings.join(', ')};`)} + (await data.urlOrBlob.text()));
          const importScripts = globalThis.importScripts;
          globalThis.importScripts = (file) =>
            file === ${JSON.stringify(EVALUATED)} ? undefined : importScripts(file);
          data.urlOrBlob = ${JSON.stringify(EVALUATED)};
        }
        handler(data);
      });
    });
  };
}
`;
  const script = prologue + workerSource;
  const file = join(
    tmpdir(),
    `moco-robust-tfjs-wasm-${createHash('sha256').update(script).digest('hex').slice(0, 16)}.worker.cjs`,
  );
  if (!existsSync(file)) {
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, script);
    renameSync(temporary, file);
  }
  return file;
}

/**
 * Runs `initialise` (which must create the wasm backend) with the glue lent a worker-script path
 * and `threads` logical cores, then unrefs the pthread workers of `module` so they never hold a
 * process open. Restores `URL.createObjectURL` and `os.cpus` whatever happens.
 */
export async function withWasmThreads<T>(
  threads: number,
  initialise: () => Promise<T>,
  moduleOf: () => WasmModuleWithThreads | undefined,
): Promise<T> {
  const script = wasmThreadScript();
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  // XNNPACK's pool size is min(requested, cores / 2): report twice the cores wanted.
  const oneCpu = cpus()[0];
  URL.createObjectURL = (object: Blob | MediaSource) =>
    object instanceof Blob && object.type === 'application/javascript' ? script : createObjectURL(object as Blob);
  os.cpus = () => Array.from({ length: 2 * threads }, () => oneCpu);
  try {
    return await initialise();
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
    const pthread = moduleOf()?.PThread;
    for (const worker of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) worker.unref();
  }
}
