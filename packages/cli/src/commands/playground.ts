import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latestCheckpoint } from '@moco-robust/core';
import { CIFAR10_RECORD_BYTES, CIFAR10_TEST_FILE, findCifar10, loadCifar10 } from '@moco-robust/data';
import { integerFlag } from '../parse-flags';
import type { CommandInput } from '../command-table';
import type { PLAYGROUND_FLAGS } from '../flags/playground-flags';
import { resolveModelSource } from '../run/pipeline';
import { UsageError } from '../usage-error';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

/** `moco-robust playground`: serves dist/playground and the run's files until interrupted. */
export async function handler({ values }: CommandInput<typeof PLAYGROUND_FLAGS>): Promise<number> {
  const port = integerFlag('playground', 'port', values.port, 8787);
  const site = join(dirname(fileURLToPath(import.meta.url)), 'playground');
  if (!existsSync(join(site, 'index.html')))
    throw new UsageError(`playground: the page is missing from ${site} (build @moco-robust/cli first)`);
  const mounts = new Map<string, string>(); // URL prefix → folder
  const manifest: Record<string, unknown> = {};
  if (values.from) {
    const demoRun = existsSync(join(values.from, 'finetune')) ? values.from : undefined;
    const classifier = await resolveModelSource(demoRun ? join(demoRun, 'finetune') : values.from, 'classifier');
    mounts.set('run/classifier/', modelFolder(classifier));
    manifest.classifier = `run/classifier/${modelFile(classifier)}`;
    const encoderFrom =
      values.encoder ?? (demoRun && existsSync(join(demoRun, 'pretrain')) ? join(demoRun, 'pretrain') : undefined);
    if (encoderFrom) manifest.encoder = await mountEncoder(encoderFrom, mounts);
  } else if (values.encoder) {
    manifest.encoder = await mountEncoder(values.encoder, mounts);
  }
  const folder = findCifar10(values.data);
  const testImages = folder
    ? await testRecords(folder, integerFlag('playground', 'images', values.images, 64))
    : undefined;
  if (testImages) manifest.data = 'run/test_batch.bin';

  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname).replace(/^\/+/, '');
    const send = (status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8') => {
      // cross-origin isolated (everything is served from here): the page may use SharedArrayBuffer, so tfjs's wasm
      // backend starts its multi-threaded build instead of running on one thread
      response.writeHead(status, {
        'content-type': type,
        'cache-control': 'no-store',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'method not allowed');
    if (path === 'run/manifest.json') return send(200, JSON.stringify(manifest), TYPES['.json']);
    if (path === 'run/test_batch.bin' && testImages) return send(200, testImages, 'application/octet-stream');
    let file: string | undefined;
    for (const [prefix, root] of mounts) if (path.startsWith(prefix)) file = inside(root, path.slice(prefix.length));
    if (!path.startsWith('run/')) file = inside(site, path === '' ? 'index.html' : path);
    if (!file || !existsSync(file) || !statSync(file).isFile()) return send(404, 'not found');
    send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
  });
  await new Promise<void>((done, fail) => server.once('error', fail).listen(port, '127.0.0.1', done));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/`;
  if (values.json) process.stdout.write(`${JSON.stringify({ url, ...manifest })}\n`);
  else process.stdout.write(`Playground: ${url}  (serving on 127.0.0.1 only; Ctrl-C stops it)\n`);
  await new Promise<void>((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
  });
  await new Promise<void>((done) => server.close(() => done()));
  return 0;
}

/** `root/sub` when it stays inside `root` (no `..` escapes), else undefined. */
function inside(root: string, sub: string): string | undefined {
  const file = resolve(root, sub);
  const rel = relative(root, file);
  return rel === '' || rel.startsWith('..') || rel.startsWith(sep) ? undefined : file;
}

function modelFolder(source: string): string {
  return statSync(source).isFile() ? dirname(source) : source;
}

function modelFile(source: string): string {
  return statSync(source).isFile() ? relative(dirname(source), source) : 'model.json';
}

/**
 * Mounts the encoder: from a pre-training checkpoint the query encoder, its projection head, the key encoder and
 * head, and the MoCo queue (state.json + queue.bin); from a model.json just that model (its output is the embedding).
 */
async function mountEncoder(from: string, mounts: Map<string, string>): Promise<Record<string, string>> {
  const isFolder = existsSync(from) && statSync(from).isDirectory();
  const checkpoint = !isFolder
    ? undefined
    : existsSync(join(from, 'manifest.json'))
      ? from
      : existsSync(join(from, 'model.json'))
        ? undefined
        : await latestCheckpoint(from);
  if (!checkpoint) {
    const source = await resolveModelSource(from, 'encoder');
    mounts.set('run/encoder/', modelFolder(source));
    return { query: `run/encoder/${modelFile(source)}` };
  }
  mounts.set('run/checkpoint/', checkpoint);
  const parts: Record<string, string> = { query: 'run/checkpoint/encoder/model.json' };
  const optional: [string, string][] = [
    ['queryHead', 'heads/projection/model.json'],
    ['key', 'key-encoder/model.json'],
    ['keyHead', 'key-heads/projection/model.json'],
    ['state', 'state.json'],
    ['queue', 'queue.bin'],
  ];
  for (const [name, file] of optional) if (existsSync(join(checkpoint, file))) parts[name] = `run/checkpoint/${file}`;
  return parts;
}

/** The first `count` test records in the official binary format (from the folder's file, or re-encoded). */
async function testRecords(folder: string, count: number): Promise<Uint8Array> {
  if (statSync(folder).isDirectory()) {
    const bytes = await readFile(join(folder, CIFAR10_TEST_FILE));
    return bytes.subarray(0, Math.min(bytes.length, count * CIFAR10_RECORD_BYTES));
  }
  const { test } = await loadCifar10(folder);
  const n = Math.min(count, test.count);
  const records = new Uint8Array(n * CIFAR10_RECORD_BYTES);
  for (let i = 0; i < n; i++) {
    const record = i * CIFAR10_RECORD_BYTES;
    records[record] = test.labels[i];
    for (let p = 0; p < 1024; p++)
      for (let c = 0; c < 3; c++) records[record + 1 + c * 1024 + p] = test.images[i * 3072 + p * 3 + c];
  }
  return records;
}
