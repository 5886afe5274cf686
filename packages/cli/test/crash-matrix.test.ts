import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHECKPOINT_WRITE_STAGES, readCheckpointManifest } from '@moco-robust/core';
import { cifarSampleDir } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, waitForExit } from './run-cli';

// The crash matrix of issue 16 on the real CLI: a kill at every step of the checkpoint protocol, SIGKILL at seeded
// random moments, Ctrl-C once and twice — every run resumes to weights byte-identical to an uninterrupted run's, with
// equal metrics, and `checkpoints/latest` never names anything but an intact checkpoint.
const sample = cifarSampleDir();
// 128 images: 4 pre-training steps of 32 (one epoch); fine-tuning 3 steps per epoch × 2 epochs; a checkpoint per step
const SMALL = ['--preset', 'tiny', '--set', 'data.trainImages=128', '--set', 'data.testImages=64'];
const PRETRAIN = [...SMALL, '--set', 'pretrain.checkpoint.everySteps=1'];
const FINETUNE = [...SMALL, '--set', 'finetune.checkpointEverySteps=1', '--set', 'finetune.validationSize=32'];
const SEEDS = Number(process.env.MOCO_ROBUST_CRASH_SEEDS ?? 10);

const waitFor = async (what: () => boolean, timeoutMs = 240_000) => {
  const until = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > until) throw new Error('timed out waiting for the run');
    await sleep(25);
  }
};

/** The weights a finished run produced, and its metrics. */
function outcome(out: string, kind: 'pretrain' | 'finetune') {
  const weights = readFileSync(join(out, kind === 'pretrain' ? 'encoder' : 'model', 'weights.bin'));
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))[kind];
  delete metrics.checkpoint; // a path: differs between runs
  return { weights: weights.toString('base64'), metrics: JSON.stringify({ ...metrics, encoder: 0, model: 0 }) };
}

/** `latest` must name an intact checkpoint (or not exist yet, before the first write). */
async function assertLatestIntact(out: string) {
  const latest = join(out, 'checkpoints', 'latest');
  if (!existsSync(latest)) return;
  const name = readFileSync(latest, 'utf8').trim();
  await readCheckpointManifest(join(out, 'checkpoints', name)); // throws unless every file verifies
}

/** Seeded delays (a small LCG): the same kill moments on every CI run. */
function seededFraction(seed: number): number {
  let x = (seed * 1103515245 + 12345) >>> 0;
  x = (x * 1103515245 + 12345) >>> 0;
  return (x % 10_000) / 10_000;
}

describe.skipIf(!sample)('crash matrix: the real CLI killed and resumed', () => {
  let root = '';
  let reference: Record<'pretrain' | 'finetune', ReturnType<typeof outcome>>;
  let seconds: Record<'pretrain' | 'finetune', number>;
  const args = (kind: 'pretrain' | 'finetune', out: string) =>
    kind === 'pretrain'
      ? ['pretrain', ...PRETRAIN, '--out', out]
      : ['finetune', ...FINETUNE, '--from', join(root, 'ref-pretrain'), '--out', out];
  const resume = (kind: 'pretrain' | 'finetune', out: string) => {
    const result = runCli([kind, '--resume', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(outcome(out, kind)).toEqual(reference[kind]);
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mr-crash-'));
    seconds = { pretrain: 0, finetune: 0 };
    reference = {} as typeof reference;
    for (const kind of ['pretrain', 'finetune'] as const) {
      const began = Date.now();
      const result = runCli(args(kind, join(root, `ref-${kind}`)));
      expect(result.status, result.stderr).toBe(0);
      seconds[kind] = (Date.now() - began) / 1000;
      reference[kind] = outcome(join(root, `ref-${kind}`), kind);
    }
  });

  for (const kind of ['pretrain', 'finetune'] as const) {
    it(`${kind}: killed at every step of the checkpoint protocol, then resumed`, async () => {
      for (const stage of CHECKPOINT_WRITE_STAGES) {
        const out = join(root, `${kind}-fault-${stage}`);
        const killed = runCli(args(kind, out), { env: { MOCO_ROBUST_TEST_CHECKPOINT_FAULT: `${stage}@2` } });
        expect(killed.signal, `${stage}: ${killed.stderr}`).toBe('SIGKILL');
        await assertLatestIntact(out);
        resume(kind, out);
        await assertLatestIntact(out);
      }
    });

    it(`${kind}: SIGKILL at ${SEEDS} seeded random moments, then resumed`, async () => {
      for (let seed = 0; seed < SEEDS; seed++) {
        const out = join(root, `${kind}-kill-${seed}`);
        const child = startCli(args(kind, out));
        const done = waitForExit(child);
        await waitFor(() => existsSync(join(out, 'config.json')));
        await sleep(seededFraction(seed) * seconds[kind] * 800);
        child.kill('SIGKILL');
        await done;
        await assertLatestIntact(out);
        resume(kind, out);
      }
    });

    it(`${kind}: one Ctrl-C saves at the current step and exits 130; a second exits at once`, async () => {
      for (const presses of [1, 2]) {
        const out = join(root, `${kind}-sigint-${presses}`);
        const child = startCli(args(kind, out), 'pipe');
        let stderr = '';
        child.stderr?.on('data', (d) => {
          stderr += d;
        });
        const done = waitForExit(child);
        await waitFor(() => existsSync(join(out, 'checkpoints', 'latest')));
        child.kill('SIGINT');
        if (presses === 2) {
          await sleep(100); // two separate signals (back to back the kernel may merge them)
          child.kill('SIGINT');
        }
        expect((await done).code, stderr).toBe(130);
        await assertLatestIntact(out);
        const events = readFileSync(join(out, 'events.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        expect(events.some((e) => e.type === 'checkpoint' && e.reason === 'final')).toBe(false);
        if (presses === 1) {
          // saved at the step it stopped at (written then, or already by the per-step cadence)
          const stopped = /stopped at step (\d+) of (\d+); checkpoint saved at (\S+)\.$/.exec(stderr.trim());
          expect(stopped, stderr).not.toBeNull();
          expect(Number(stopped![1])).toBeLessThan(Number(stopped![2]));
          const latest = readFileSync(join(out, 'checkpoints', 'latest'), 'utf8').trim();
          expect(join(out, 'checkpoints', latest)).toBe(stopped![3]);
          expect((await readCheckpointManifest(stopped![3])).step).toBe(Number(stopped![1]));
        }
        resume(kind, out);
      }
    });
  }
});
