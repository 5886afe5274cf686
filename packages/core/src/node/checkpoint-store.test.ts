import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, FileSystemError } from '../errors/errors';
import {
  CHECKPOINT_WRITE_STAGES,
  fileCheckpointStore,
  latestCheckpoint,
  readCheckpointFile,
  readCheckpointManifest,
  writeCheckpoint,
} from './checkpoint-store';

describe('checkpoint store', () => {
  it('writes atomically, points latest at the newest, verifies and prunes', async () => {
    const run = await mkdtemp(join(tmpdir(), 'mr-ckpt-'));
    expect(await latestCheckpoint(run)).toBeUndefined();
    for (const step of [10, 20, 30]) {
      await writeCheckpoint(
        run,
        step,
        { 'rng.json': JSON.stringify({ step }), 'encoder/weights.bin': new Uint8Array([step, 1, 2]) },
        { meta: { epoch: step / 10 }, keep: 2 },
      );
    }
    const latest = await latestCheckpoint(run);
    expect(latest).toBe(join(run, 'checkpoints', '000000030'));
    const manifest = await readCheckpointManifest(latest!);
    expect(manifest.step).toBe(30);
    expect(manifest.meta).toEqual({ epoch: 3 });
    expect(Array.from(await readCheckpointFile(latest!, 'encoder/weights.bin'))).toEqual([30, 1, 2]);
    const names = (await readdir(join(run, 'checkpoints'))).sort();
    expect(names).toEqual(['000000020', '000000030', 'latest']);
  });

  it('refuses a corrupt checkpoint with a clear error and leaves it in place', async () => {
    const run = await mkdtemp(join(tmpdir(), 'mr-ckpt-'));
    const dir = await writeCheckpoint(run, 1, { 'queue.bin': new Uint8Array(16) });
    await writeFile(join(dir, 'queue.bin'), new Uint8Array(8));
    await expect(readCheckpointManifest(dir)).rejects.toThrow(CheckpointError);
    await expect(readCheckpointManifest(dir)).rejects.toThrow(/queue\.bin: corrupt: expected 16 bytes/);
    expect((await readFile(join(dir, 'queue.bin'))).byteLength).toBe(8);
    await expect(readCheckpointManifest(run)).rejects.toThrow(/manifest\.json/);
  });
});

describe('checkpoint protocol under faults', () => {
  const filesOf = (step: number) => ({
    'state.json': JSON.stringify({ step }),
    'encoder/weights.bin': new Uint8Array([step, 7, 7]),
  });

  /** Asserts `latest` names an intact checkpoint (it never dangles) and returns its step. */
  async function latestStep(run: string): Promise<number> {
    const root = join(run, 'checkpoints');
    const name = (await readFile(join(root, 'latest'), 'utf8')).trim();
    return (await readCheckpointManifest(join(root, name))).step;
  }

  for (const stage of CHECKPOINT_WRITE_STAGES) {
    for (const overwrite of [false, true]) {
      const what = overwrite ? 'rewriting the same step' : 'a new step';
      it(`a crash at '${stage}' (${what}) leaves a valid latest`, async () => {
        const run = await mkdtemp(join(tmpdir(), 'mr-fault-'));
        await writeCheckpoint(run, 4, filesOf(4), { keep: 2 });
        const step = overwrite ? 4 : 8;
        // the hook snapshots the disk exactly as a kill at this stage leaves it, then throws
        const crashed = await mkdtemp(join(tmpdir(), 'mr-crash-'));
        const write = writeCheckpoint(run, step, filesOf(step), {
          keep: 2,
          onStage: async (reached) => {
            expect(await latestStep(run)).toBe(
              reached === 'latest-switched' || reached === 'replaced-removed' || reached === 'pruned' ? step : 4,
            );
            if (reached !== stage) return;
            await cp(join(run, 'checkpoints'), join(crashed, 'checkpoints'), { recursive: true });
            throw new Error(`injected fault at ${stage}`);
          },
        });
        await expect(write).rejects.toThrow(CheckpointError);
        for (const dir of [run, crashed]) {
          expect([4, step]).toContain(await latestStep(dir));
          const store = fileCheckpointStore(dir);
          const resumed = await store.latest();
          expect(resumed?.step).toBe(await latestStep(dir));
          expect(Array.from(await resumed!.read('encoder/weights.bin'))).toEqual([resumed!.step, 7, 7]);
          // after the restart no temporary files remain, and the next write succeeds
          expect((await readdir(join(dir, 'checkpoints'))).filter((n) => n.startsWith('.'))).toEqual([]);
          await store.write(step, filesOf(step));
          expect(await latestStep(dir)).toBe(step);
        }
      });
    }
  }

  it('falls back with a warning to the newest intact checkpoint when latest dangles or is corrupt', async () => {
    const run = await mkdtemp(join(tmpdir(), 'mr-fallback-'));
    for (const step of [1, 2, 3]) await writeCheckpoint(run, step, filesOf(step));
    await rm(join(run, 'checkpoints', '000000003'), { recursive: true });
    const warnings: string[] = [];
    expect(await latestCheckpoint(run, { onWarning: (m) => warnings.push(m) })).toBe(
      join(run, 'checkpoints', '000000002'),
    );
    expect(warnings.join(' ')).toMatch(/000000003, which is not an intact checkpoint/);
    await writeFile(join(run, 'checkpoints', 'latest'), 'garbage\u0000');
    await writeFile(join(run, 'checkpoints', '000000002', 'state.json'), '{}');
    const stored = await fileCheckpointStore(run).latest();
    expect(stored?.step).toBe(1);
    expect(stored?.warnings?.join(' ')).toMatch(/not a checkpoint name/);
    await rm(join(run, 'checkpoints', '000000001', 'manifest.json'));
    await expect(latestCheckpoint(run)).rejects.toThrow(/holds no intact checkpoint/);
  });

  it('turns a full disk into a FileSystemError naming the path, keeping the previous checkpoint', async () => {
    const run = await mkdtemp(join(tmpdir(), 'mr-enospc-'));
    await writeCheckpoint(run, 1, filesOf(1));
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const write = writeCheckpoint(run, 2, filesOf(2), {
      onStage: (stage) => {
        if (stage === 'files-written') throw full;
      },
    });
    await expect(write).rejects.toThrow(FileSystemError);
    await expect(write).rejects.toThrow(/checkpoints.*no space left on the device \(ENOSPC\)/);
    expect(await latestStep(run)).toBe(1);
    expect((await readdir(join(run, 'checkpoints'))).sort()).toEqual(['000000001', 'latest']);
  });
});
