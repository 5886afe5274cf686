import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../errors/errors';
import type { CheckpointFiles, CheckpointStore } from '../checkpoint/checkpoint-store';
import { atomicWriteFile } from './atomic-write';

/** `manifest.json` of a checkpoint: what it holds and how to verify it. */
export interface CheckpointManifest {
  format: 'moco-robust-checkpoint/v1';
  step: number;
  createdAt: string;
  files: Array<{ path: string; bytes: number; sha256: string }>;
  /** Free-form metadata of the writer (epoch, metrics, method). */
  meta: Record<string, unknown>;
}

const stepDirName = (step: number) => String(step).padStart(9, '0');

/**
 * Writes a checkpoint directory `<runDir>/checkpoints/<step>/` atomically (written under a temporary
 * name, flushed, renamed) with a `manifest.json` of file sizes and SHA-256 digests, then points
 * `<runDir>/checkpoints/latest` at it (replaced by rename) and keeps the newest `keep` checkpoints.
 * Returns the checkpoint directory.
 */
export async function writeCheckpoint(
  runDir: string,
  step: number,
  files: CheckpointFiles,
  options: { meta?: Record<string, unknown>; keep?: number } = {},
): Promise<string> {
  const root = join(runDir, 'checkpoints');
  const finalDir = join(root, stepDirName(step));
  const temporary = join(root, `.tmp-${stepDirName(step)}-${randomBytes(4).toString('hex')}`);
  await mkdir(temporary, { recursive: true });
  try {
    const entries: CheckpointManifest['files'] = [];
    for (const [path, content] of Object.entries(files)) {
      const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
      const target = join(temporary, path);
      await mkdir(join(target, '..'), { recursive: true });
      const handle = await open(target, 'w');
      await handle.writeFile(bytes);
      await handle.sync();
      await handle.close();
      entries.push({ path, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    const manifest: CheckpointManifest = {
      format: 'moco-robust-checkpoint/v1',
      step,
      createdAt: new Date().toISOString(),
      files: entries,
      meta: options.meta ?? {},
    };
    await atomicWriteFile(join(temporary, 'manifest.json'), JSON.stringify(manifest, null, 2));
    await rm(finalDir, { recursive: true, force: true });
    await rename(temporary, finalDir);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw new CheckpointError({
      path: finalDir,
      message: 'could not write the checkpoint; the previous checkpoints are intact',
      cause: error,
    });
  }
  await atomicWriteFile(join(root, 'latest'), `${stepDirName(step)}\n`);
  if (options.keep !== undefined) await pruneCheckpoints(runDir, options.keep);
  return finalDir;
}

/** The newest complete checkpoint directory of a run (following `latest`), or undefined when none exists. */
export async function latestCheckpoint(runDir: string): Promise<string | undefined> {
  const root = join(runDir, 'checkpoints');
  let name: string;
  try {
    name = (await readFile(join(root, 'latest'), 'utf8')).trim();
  } catch {
    return undefined;
  }
  const dir = join(root, name);
  try {
    await stat(join(dir, 'manifest.json'));
  } catch (error) {
    throw new CheckpointError({
      path: dir,
      message: `'latest' points at a checkpoint without manifest.json`,
      cause: error,
    });
  }
  return dir;
}

/** Reads and verifies a checkpoint's manifest: every listed file present with its size and SHA-256. */
export async function readCheckpointManifest(
  dir: string,
  options: { verify?: boolean } = {},
): Promise<CheckpointManifest> {
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  } catch (error) {
    throw new CheckpointError({
      path: join(dir, 'manifest.json'),
      message: 'missing or not valid JSON: not a moco-robust checkpoint, or a corrupt one',
      cause: error,
    });
  }
  if (manifest?.format !== 'moco-robust-checkpoint/v1' || !Array.isArray(manifest.files)) {
    throw new CheckpointError({
      path: join(dir, 'manifest.json'),
      message: `expected format 'moco-robust-checkpoint/v1', got ${JSON.stringify(manifest?.format)}`,
    });
  }
  if (options.verify ?? true) {
    for (const file of manifest.files) {
      const bytes = await readCheckpointFile(dir, file.path);
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (bytes.byteLength !== file.bytes || digest !== file.sha256) {
        throw new CheckpointError({
          path: join(dir, file.path),
          message:
            `corrupt: expected ${file.bytes} bytes with SHA-256 ${file.sha256.slice(0, 12)}…, ` +
            `got ${bytes.byteLength} bytes with ${digest.slice(0, 12)}…`,
        });
      }
    }
  }
  return manifest;
}

/** Reads one file of a checkpoint. */
export async function readCheckpointFile(dir: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(join(dir, path)));
  } catch (error) {
    throw new CheckpointError({ path: join(dir, path), message: 'missing from the checkpoint', cause: error });
  }
}

/** Deletes all but the newest `keep` checkpoints of a run (never the one `latest` points at). */
export async function pruneCheckpoints(runDir: string, keep: number): Promise<void> {
  const root = join(runDir, 'checkpoints');
  const latest = (await readFile(join(root, 'latest'), 'utf8').catch(() => '')).trim();
  const steps = (await readdir(root)).filter((n) => /^\d+$/.test(n)).sort();
  for (const name of steps.slice(0, Math.max(0, steps.length - Math.max(1, keep)))) {
    if (name !== latest) await rm(join(root, name), { recursive: true, force: true });
  }
}

/**
 * The file-system {@link CheckpointStore} of a run directory: writes with {@link writeCheckpoint}
 * (keeping the newest `keep`, default 3) and reads the verified latest checkpoint.
 */
export function fileCheckpointStore(runDir: string, options: { keep?: number } = {}): CheckpointStore {
  return {
    write: (step, files, meta) => writeCheckpoint(runDir, step, files, { meta, keep: options.keep ?? 3 }),
    async latest() {
      const dir = await latestCheckpoint(runDir);
      return dir === undefined ? undefined : openCheckpoint(dir);
    },
  };
}

/** Opens (and verifies) the checkpoint directory `dir` as a {@link StoredCheckpoint}. */
export async function openCheckpoint(dir: string): Promise<import('../checkpoint/checkpoint-store').StoredCheckpoint> {
  const manifest = await readCheckpointManifest(dir);
  return {
    location: dir,
    step: manifest.step,
    meta: manifest.meta,
    read: (path) => readCheckpointFile(dir, path),
    readText: async (path) => new TextDecoder().decode(await readCheckpointFile(dir, path)),
  };
}
