import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../errors/errors';
import { latestCheckpoint, readCheckpointFile, readCheckpointManifest, writeCheckpoint } from './checkpoint-store';

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
