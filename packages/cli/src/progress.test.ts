import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendSelection } from '@moco-robust/core';
import { STANDARD_FINETUNE } from '@moco-robust/eval';
import { DEFAULT_PRETRAIN_CONFIG } from '@moco-robust/moco';
import { describe, expect, it } from 'vitest';
import type { CliEvent, CliEventType } from './events';
import { ProgressRenderer } from './progress';

/** One sample of every member of {@link CliEvent}, by `type`, and the plain line it draws ('' = logged only). */
type Samples = { [T in CliEventType]: Array<{ event: Extract<CliEvent, { type: T }>; line: string }> };

const selection: BackendSelection = {
  name: 'wasm',
  tfBackend: 'wasm',
  threads: 2,
  reason: 'first-that-loads',
  attempts: [
    { name: 'node', ok: false, packageName: '@tensorflow/tfjs-node', reason: 'not installed', milliseconds: 3 },
    { name: 'wasm', ok: true, packageName: '@tensorflow/tfjs-backend-wasm', milliseconds: 40 },
  ],
};

// A missing or extra key does not compile: a new CliEvent member needs a sample here.
const SAMPLES: Samples = {
  'backend-selected': [
    {
      event: { type: 'backend-selected', selection },
      line: '  backend: wasm, 2 threads (skipped node: not installed)',
    },
  ],
  'native-build-phase': [
    { event: { type: 'native-build-phase', phase: 'compile', detail: 'node-gyp' }, line: '  compile: node-gyp' },
  ],
  'pretrain-start': [
    {
      event: {
        type: 'pretrain-start',
        method: 'moco',
        totalSteps: 10,
        stepsPerEpoch: 5,
        startStep: 0,
        config: DEFAULT_PRETRAIN_CONFIG,
      },
      line: '',
    },
  ],
  'step-end': [
    {
      event: {
        type: 'step-end',
        step: 3,
        epoch: 0,
        totalSteps: 10,
        loss: 0.5,
        learningRate: 0.03,
        imagesPerSecond: 119.6,
      },
      line: '  pre-training 3/10 (30%) · loss 0.5000 · lr 0.0300 · 120 img/s · ETA ',
    },
  ],
  checkpoint: [
    {
      event: { type: 'checkpoint', step: 10, location: 'run/checkpoints/10', reason: 'final' },
      line: '  checkpoint (final): run/checkpoints/10',
    },
    {
      event: { type: 'checkpoint', step: 4, location: 'run/checkpoints/4', reason: 'abort' },
      line: '  checkpoint (abort): run/checkpoints/4',
    },
    { event: { type: 'checkpoint', step: 5, location: 'run/checkpoints/5', reason: 'epoch' }, line: '' },
  ],
  warning: [
    { event: { type: 'warning', message: 'loss is rising' }, line: '  warning: loss is rising' },
    { event: { type: 'warning', worker: 'w1', message: 'redis is slow' }, line: 'warning: redis is slow' },
  ],
  'epoch-end': [
    {
      event: { type: 'epoch-end', epoch: 0, loss: 1.25, seconds: 3, knnAccuracy: 0.314, numTensors: 12 },
      line: '  epoch 1 · loss 1.2500 · kNN 31.4%',
    },
    {
      event: {
        type: 'epoch-end',
        epoch: 1,
        loss: 0.75,
        validation: { clean: 0.5, robust: 0.25 },
        best: true,
        numTensors: 12,
      },
      line: '  epoch 2 · loss 0.7500 · val clean 50.0% robust 25.0%',
    },
  ],
  'pretrain-end': [{ event: { type: 'pretrain-end', steps: 10, loss: 0.4, seconds: 9 }, line: '' }],
  'finetune-start': [
    { event: { type: 'finetune-start', totalSteps: 8, startStep: 0, config: STANDARD_FINETUNE }, line: '' },
  ],
  'finetune-end': [{ event: { type: 'finetune-end', steps: 8, bestEpoch: 1, seconds: 4 }, line: '' }],
  'eval-progress': [
    {
      event: { type: 'eval-progress', done: 64, total: 128, attack: 'clean+pgd' },
      line: '64/128 (50%) · clean+pgd · ETA',
    },
  ],
  'corruption-eval': [
    {
      event: {
        type: 'corruption-eval',
        corruption: 'fog',
        severity: 3,
        accuracy: 0.625,
        images: 64,
        done: 12,
        total: 95,
        numTensors: 20,
      },
      line: '12/95 (13%) · fog s3 62.5% · ETA',
    },
  ],
  'corruption-skipped': [
    { event: { type: 'corruption-skipped', corruption: 'frost', reason: 'no frost textures' }, line: '' },
  ],
  'corruption-end': [
    { event: { type: 'corruption-end', corruption: 'fog', severity: 1, images: 64, seconds: 0.5 }, line: '' },
  ],
  'corruption-workers-started': [{ event: { type: 'corruption-workers-started', workers: 2 }, line: '' }],
  'corruption-workers-stopped': [
    { event: { type: 'corruption-workers-stopped', workers: 2, reason: 'finished' }, line: '' },
  ],
  'download-start': [
    {
      event: { type: 'download-start', url: 'https://x/c.tar.gz', path: 'c.tar.gz', resumeFrom: 2048 },
      line: 'resuming https://x/c.tar.gz from byte 2048',
    },
    { event: { type: 'download-start', url: 'https://x/c.tar.gz', path: 'c.tar.gz', resumeFrom: 0 }, line: '' },
  ],
  'download-progress': [
    {
      event: { type: 'download-progress', url: 'https://x/c.tar.gz', bytes: 40e6, totalBytes: 160e6 },
      line: '40/160 (25%) · MB · ETA',
    },
  ],
  'download-end': [
    {
      event: { type: 'download-end', url: 'https://x/c.tar.gz', path: 'c.tar.gz', bytes: 9, seconds: 1, cached: false },
      line: '',
    },
  ],
  'frost-textures-ready': [{ event: { type: 'frost-textures-ready', dir: 'frost', written: 6 }, line: '' }],
  'cell-start': [
    {
      event: { type: 'cell-start', index: 1, total: 4, cell: 'moco-s0', attempt: 2, resuming: true },
      line: '[2/4] moco-s0: resuming (attempt 2)',
    },
    {
      event: { type: 'cell-start', worker: 'w1', cell: 'moco-s0', grid: 'g', attempt: 1, resuming: false },
      line: 'moco-s0: starting (g)',
    },
  ],
  'cell-skip': [
    {
      event: { type: 'cell-skip', index: 0, total: 4, cell: 'moco-s1', reason: 'failed' },
      line: '[1/4] moco-s1: skipped (failed earlier; --retry-failed reruns it)',
    },
  ],
  'cell-end': [
    {
      event: { type: 'cell-end', index: 3, total: 4, cell: 'moco-s2', seconds: 12.34 },
      line: '[4/4] moco-s2: done in 12.3 s',
    },
    { event: { type: 'cell-end', worker: 'w1', cell: 'moco-s2', seconds: 2 }, line: 'moco-s2: done in 2.0 s' },
  ],
  'cell-failed': [
    {
      event: { type: 'cell-failed', index: 2, total: 4, cell: 'moco-s3', error: 'NonFiniteError: loss' },
      line: '[3/4] moco-s3: FAILED — NonFiniteError: loss',
    },
    { event: { type: 'cell-failed', worker: 'w1', cell: 'moco-s3', error: 'boom' }, line: 'moco-s3: FAILED — boom' },
  ],
  'worker-ready': [
    {
      event: { type: 'worker-ready', worker: 'w1', backend: 'node', version: '1.2.3' },
      line: 'worker w1: ready (backend node, moco-robust 1.2.3)',
    },
  ],
  'cell-busy': [
    {
      event: { type: 'cell-busy', worker: 'w1', cell: 'moco-s4', holder: 'w2', until: '12:00' },
      line: 'moco-s4: leased by w2 until 12:00; retried after it',
    },
  ],
  'cell-stopped': [
    {
      event: { type: 'cell-stopped', worker: 'w1', cell: 'moco-s5', reason: 'SIGTERM' },
      line: 'moco-s5: stopped (SIGTERM); checkpoint kept, job back on the queue',
    },
  ],
};

/** A renderer drawing plain lines (not a terminal) into `written`, redrawing progress at every event. */
function plainRenderer(logFile?: string) {
  const written: string[] = [];
  const renderer = new ProgressRenderer({
    logFile,
    plainEverySeconds: 0,
    stream: { isTTY: false, write: (text: string) => written.push(text) },
  });
  renderer.startPhase('pre-training (moco)');
  written.length = 0;
  return { renderer, written };
}

const rows = Object.values(SAMPLES).flat();

describe('ProgressRenderer', () => {
  it.each(rows.map((row) => [row.event.type, row] as const))('renders %s as a plain line', (_, { event, line }) => {
    const { renderer, written } = plainRenderer();
    renderer.listener(event);
    if (line === '') expect(written).toEqual([]);
    else {
      expect(written).toHaveLength(1);
      expect(written[0]).toContain(line);
      expect(written[0]?.endsWith('\n')).toBe(true);
    }
  });

  it('writes every event to the JSONL log with its phase, even the ones it does not draw', () => {
    const dir = mkdtempSync(join(tmpdir(), 'progress-'));
    try {
      const logFile = join(dir, 'events.jsonl');
      const { renderer } = plainRenderer(logFile);
      for (const { event } of rows) renderer.listener(event);
      const logged = readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .map((text) => JSON.parse(text));
      expect(logged.map((entry) => entry.type)).toEqual(rows.map(({ event }) => event.type));
      // an event's own `phase` (native-build-phase) wins over the renderer's
      const phases = rows.map(({ event }) => ('phase' in event ? event.phase : 'pre-training (moco)'));
      expect(logged.map((entry) => entry.phase)).toEqual(phases);
      expect(logged.every((entry) => typeof entry.time === 'string')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('draws nothing when quiet, and still logs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'progress-'));
    try {
      const logFile = join(dir, 'events.jsonl');
      const written: string[] = [];
      const renderer = new ProgressRenderer({
        logFile,
        quiet: true,
        stream: { write: (t: string) => written.push(t) },
      });
      for (const { event } of rows) renderer.listener(event);
      expect(written).toEqual([]);
      expect(readFileSync(logFile, 'utf8').trim().split('\n')).toHaveLength(rows.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
