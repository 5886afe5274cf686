import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cifarSampleDir } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, cliEnv, startCli, waitForExit } from './run-cli';

// `demo --resume` on the real CLI (issue 16): a demo SIGKILLed during pre-training, during fine-tuning and during the
// control run resumes to the weights and numbers of an uninterrupted demo, byte for byte; an occupied --out is refused.
const sample = cifarSampleDir();
// 128 images: 4 pre-training steps, 3 fine-tuning steps per epoch × 2 epochs (the control too), a checkpoint per
// step so that a kill lands mid-phase; CIFAR-10-C off (it keeps no state and only adds minutes)
const ARGS = [
  ...['--preset', 'tiny', '--set', 'data.trainImages=128', '--set', 'data.testImages=64'],
  ...['--set', 'pretrain.checkpoint.everySteps=1', '--set', 'finetune.checkpointEverySteps=1'],
  ...['--set', 'eval.cifar10c=false'],
];
/** The files of a finished demo that must be identical: every phase's final weights and the metrics. */
const OUTPUTS = [
  'pretrain/encoder/weights.bin',
  'finetune/model/weights.bin',
  'control/finetune/model/weights.bin',
  'metrics.json',
];
/** Where to kill: the phase's first step checkpoint appears, and the file that exists only once the phase is done. */
const KILLS = {
  'pre-training': { marker: 'pretrain/checkpoints/latest', done: 'pretrain/encoder/model.json' },
  'fine-tuning': { marker: 'finetune/checkpoints/latest', done: 'finetune/model/model.json' },
  control: { marker: 'control/finetune/checkpoints/latest', done: 'control/finetune/model/model.json' },
} as const;
type Phase = keyof typeof KILLS;

/** Starts a demo into `out` and SIGKILLs it as soon as `marker` appears (polled every 50 ms). */
async function killDemoWhen(out: string, marker: string) {
  const child = startCli(['demo', ...ARGS, '--out', out], 'pipe');
  const exit = waitForExit(child);
  let running = true;
  void exit.then(() => {
    running = false;
  });
  while (running && !existsSync(join(out, marker))) await sleep(50);
  if (running) child.kill('SIGKILL');
  return exit;
}

/** Every file under `dir` with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = statSync(path);
    out[path] = `${info.size}:${info.mtimeMs}`;
  }
  return out;
}

const digest = (out: string) =>
  Object.fromEntries(OUTPUTS.map((f) => [f, readFileSync(join(out, f)).toString('base64')]));

describe.skipIf(!sample)('demo --resume: a killed demo continues to an uninterrupted one', () => {
  let root = '';
  const killed = {} as Record<Phase, Awaited<ReturnType<typeof killDemoWhen>>>;
  let reference: Awaited<ReturnType<typeof waitForExit>>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mr-demo-resume-'));
    // the reference and the three killed demos side by side
    const [ref, ...kills] = await Promise.all([
      waitForExit(startCli(['demo', ...ARGS, '--out', join(root, 'ref')], 'pipe')),
      ...(Object.keys(KILLS) as Phase[]).map((phase) => killDemoWhen(join(root, phase), KILLS[phase].marker)),
    ]);
    reference = ref!;
    (Object.keys(KILLS) as Phase[]).forEach((phase, i) => {
      killed[phase] = kills[i]!;
    });
  }, 900_000);

  it('resumes a demo killed during pre-training, fine-tuning and the control run to identical weights and metrics', {
    timeout: 900_000,
  }, async () => {
    expect(reference.code, reference.stderr).toBe(0);
    const expected = digest(join(root, 'ref'));
    for (const phase of Object.keys(KILLS) as Phase[]) {
      expect(killed[phase].signal, `${phase}: ${killed[phase].stderr}`).toBe('SIGKILL');
      // the kill landed inside the phase: its checkpoint was written, its final model not yet
      expect(existsSync(join(root, phase, KILLS[phase].done)), phase).toBe(false);
    }
    const resumed = await Promise.all(
      (Object.keys(KILLS) as Phase[]).map((phase) =>
        waitForExit(startCli(['demo', '--resume', '--out', join(root, phase)], 'pipe')),
      ),
    );
    (Object.keys(KILLS) as Phase[]).forEach((phase, i) => {
      expect(resumed[i]!.code, `${phase}: ${resumed[i]!.stderr}`).toBe(0);
      expect(resumed[i]!.stderr, phase).toMatch(/resuming/);
      expect(digest(join(root, phase)), phase).toEqual(expected);
    });
  });

  it('refuses a new demo into an occupied --out, suggesting --resume, and changes nothing', async () => {
    expect(reference.code, reference.stderr).toBe(0);
    const out = join(root, 'ref');
    const before = snapshot(out);
    const result = spawnSync(process.execPath, [CLI_BIN, 'demo', ...ARGS, '--out', out], {
      encoding: 'utf8',
      env: cliEnv(),
    });
    expect(result.status, result.stderr).toBe(2);
    const last = result.stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toContain(out);
    expect(last).toMatch(/--resume/);
    expect(snapshot(out)).toEqual(before);
  });
});
