import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckpointFiles, CheckpointStore, StoredCheckpoint } from '../checkpoint/checkpoint-store';
import { CheckpointError, FileSystemError } from '../errors/errors';
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

/**
 * The steps of {@link writeCheckpoint}'s protocol, in order; after each one the run has a valid `latest`:
 * - `temp-created`: an empty temporary folder exists; `latest` is unchanged.
 * - `files-written`: every file is written and flushed (no manifest yet).
 * - `manifest-written`: the manifest is written; files and folders are flushed.
 * - `renamed`: the temporary folder has its final name (flushed); `latest` still names the previous checkpoint.
 * - `latest-switched`: `latest` names the new checkpoint (replaced by rename, flushed).
 * - `replaced-removed`: older copies of the same step are removed (only now).
 * - `pruned`: checkpoints beyond `keep` are removed.
 */
export const CHECKPOINT_WRITE_STAGES = [
  'temp-created',
  'files-written',
  'manifest-written',
  'renamed',
  'latest-switched',
  'replaced-removed',
  'pruned',
] as const;
export type CheckpointWriteStage = (typeof CHECKPOINT_WRITE_STAGES)[number];

/** Called after each step of the protocol (a fault-injection seam for tests: throw or exit the process there). */
export type CheckpointStageHook = (stage: CheckpointWriteStage, info: { step: number; dir: string }) => unknown;

const stepDirName = (step: number) => String(step).padStart(9, '0');
/** `000000008` (first copy of step 8) or `000000008-2` (a later copy written over the same step). */
const CHECKPOINT_NAME = /^(\d{9,})(?:-(\d+))?$/;
const TEMPORARY_NAME = /^\.tmp-|^\.latest\..*\.tmp$/;

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function failure(error: unknown, path: string, message: string): Error {
  const own = (error as { path?: unknown } | null)?.path;
  return (
    FileSystemError.from(error, typeof own === 'string' ? own : path, 'write the checkpoint') ??
    new CheckpointError({ path, message, cause: error })
  );
}

/**
 * Writes the checkpoint of `step` under `<runDir>/checkpoints/` so that there is never a moment without a valid
 * checkpoint: files and a `manifest.json` of sizes and SHA-256 digests go to a temporary folder, are flushed (files and
 * folders), the folder is renamed to `<step>` (or `<step>-<n>` when that step already has a checkpoint: the old one
 * is never removed first), `latest` is switched to it by rename, and only then are the copies it replaces and the
 * checkpoints beyond the newest `keep` removed. Returns the checkpoint directory.
 */
export async function writeCheckpoint(
  runDir: string,
  step: number,
  files: CheckpointFiles,
  options: { meta?: Record<string, unknown>; keep?: number; onStage?: CheckpointStageHook } = {},
): Promise<string> {
  const root = join(runDir, 'checkpoints');
  const temporary = join(root, `.tmp-${stepDirName(step)}-${randomBytes(4).toString('hex')}`);
  let finalDir = join(root, stepDirName(step));
  const stage = async (name: CheckpointWriteStage, dir: string) => {
    await options.onStage?.(name, { step, dir });
  };
  let renamed = false;
  try {
    await mkdir(temporary, { recursive: true });
    await stage('temp-created', temporary);
    const entries: CheckpointManifest['files'] = [];
    const folders = new Set<string>([temporary]);
    for (const [path, content] of Object.entries(files)) {
      const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
      const target = join(temporary, path);
      await mkdir(dirname(target), { recursive: true });
      folders.add(dirname(target));
      const handle = await open(target, 'w');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      entries.push({ path, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    await stage('files-written', temporary);
    const manifest: CheckpointManifest = {
      format: 'moco-robust-checkpoint/v1',
      step,
      createdAt: new Date().toISOString(),
      files: entries,
      meta: options.meta ?? {},
    };
    await atomicWriteFile(join(temporary, 'manifest.json'), JSON.stringify(manifest, null, 2));
    for (const folder of [...folders].sort((a, b) => b.length - a.length)) await syncPath(folder);
    await stage('manifest-written', temporary);
    const names = await readdir(root);
    for (let copy = 1; names.includes(finalDir.slice(root.length + 1)); copy++)
      finalDir = join(root, `${stepDirName(step)}-${copy}`);
    await rename(temporary, finalDir);
    renamed = true;
    await syncPath(root);
    await stage('renamed', finalDir);
  } catch (error) {
    if (!renamed) await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    throw failure(error, finalDir, 'could not write the checkpoint; the previous checkpoints are intact');
  }
  try {
    await atomicWriteFile(join(root, 'latest'), `${finalDir.slice(root.length + 1)}\n`);
    await syncPath(root);
  } catch (error) {
    throw failure(error, join(root, 'latest'), `could not point 'latest' at ${finalDir}; the previous one is intact`);
  }
  try {
    await stage('latest-switched', finalDir);
    const own = (await readdir(root)).filter(
      (n) => CHECKPOINT_NAME.exec(n)?.[1] === stepDirName(step) && n !== finalDir.slice(root.length + 1),
    );
    for (const name of own) await rm(join(root, name), { recursive: true, force: true });
    await stage('replaced-removed', finalDir);
    if (options.keep !== undefined) await pruneCheckpoints(runDir, options.keep);
    await stage('pruned', finalDir);
  } catch (error) {
    throw failure(error, finalDir, 'the checkpoint was written and is the latest, but removing older ones failed');
  }
  return finalDir;
}

/** The checkpoint directories of a run, newest first (by step, then by copy). */
async function checkpointDirs(root: string): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const parsed = names
    .map((name) => ({ name, match: CHECKPOINT_NAME.exec(name) }))
    .filter((e): e is { name: string; match: RegExpExecArray } => e.match !== null)
    .map((e) => ({ name: e.name, step: Number(e.match[1]), copy: Number(e.match[2] ?? 0) }));
  parsed.sort((a, b) => b.step - a.step || b.copy - a.copy);
  return parsed.map((e) => join(root, e.name));
}

/**
 * The newest intact checkpoint directory of a run, or undefined when there is none: the one `latest` names when it
 * is intact (manifest present, every file verified); otherwise the newest intact one, after telling `onWarning` why
 * `latest` was not used. A run whose checkpoints are all damaged is refused with a {@link CheckpointError}.
 */
export async function latestCheckpoint(
  runDir: string,
  options: { onWarning?: (message: string) => void } = {},
): Promise<string | undefined> {
  const root = join(runDir, 'checkpoints');
  const candidates = await checkpointDirs(root);
  let name: string | undefined;
  try {
    name = (await readFile(join(root, 'latest'), 'utf8')).trim();
  } catch {
    name = undefined;
  }
  if (name !== undefined && CHECKPOINT_NAME.test(name)) {
    try {
      await readCheckpointManifest(join(root, name));
      return join(root, name);
    } catch (error) {
      options.onWarning?.(
        `'latest' names ${join(root, name)}, which is not an intact checkpoint ` +
          `(${(error as Error).message.split('\n')[0]}); falling back to the newest intact one`,
      );
    }
  } else if (candidates.length > 0) {
    options.onWarning?.(
      name === undefined
        ? `${join(root, 'latest')} is missing; falling back to the newest intact checkpoint`
        : `${join(root, 'latest')} holds ${JSON.stringify(name.slice(0, 40))}, not a checkpoint name; ` +
            'falling back to the newest intact checkpoint',
    );
  }
  const problems: string[] = [];
  for (const dir of candidates) {
    if (name !== undefined && dir === join(root, name)) continue;
    try {
      await readCheckpointManifest(dir);
      options.onWarning?.(`using ${dir}`);
      return dir;
    } catch (error) {
      problems.push((error as Error).message.split('\n')[0]);
    }
  }
  if (name === undefined && candidates.length === 0) return undefined;
  throw new CheckpointError({
    path: root,
    message: `holds no intact checkpoint (${problems.concat(name ? [`latest: ${name}`] : []).join('; ')})`,
  });
}

/** Removes what an interrupted write left behind: temporary checkpoint folders and temporary `latest` files. */
export async function removeStaleCheckpointFiles(runDir: string): Promise<string[]> {
  const root = join(runDir, 'checkpoints');
  const stale = (await readdir(root).catch(() => [] as string[])).filter((n) => TEMPORARY_NAME.test(n));
  for (const name of stale) await rm(join(root, name), { recursive: true, force: true });
  return stale.map((n) => join(root, n));
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

/** Deletes all but the newest `keep` (at least 1) checkpointed steps of a run, never the one `latest` names. */
export async function pruneCheckpoints(runDir: string, keep: number): Promise<void> {
  const root = join(runDir, 'checkpoints');
  const latest = (await readFile(join(root, 'latest'), 'utf8').catch(() => '')).trim();
  const steps: string[] = [];
  for (const dir of await checkpointDirs(root)) {
    const step = CHECKPOINT_NAME.exec(dir.slice(root.length + 1))![1];
    if (!steps.includes(step)) steps.push(step);
    if (steps.indexOf(step) >= Math.max(1, keep) && dir !== join(root, latest))
      await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The file-system {@link CheckpointStore} of a run directory: writes with {@link writeCheckpoint} (keeping the newest
 * `keep`, default 3; `onStage` is the fault-injection seam) and reads the newest intact checkpoint; before reading it
 * removes what an interrupted write left behind. Warnings (a damaged `latest`, stale files) go to the checkpoint's
 * `warnings`.
 */
export function fileCheckpointStore(
  runDir: string,
  options: { keep?: number; onStage?: CheckpointStageHook } = {},
): CheckpointStore {
  return {
    write: (step, files, meta, write) =>
      writeCheckpoint(runDir, step, files, { meta, keep: write?.keep ?? options.keep ?? 3, onStage: options.onStage }),
    async latest() {
      const warnings = (await removeStaleCheckpointFiles(runDir)).map(
        (path) => `removed ${path}, left behind by an interrupted checkpoint write`,
      );
      const dir = await latestCheckpoint(runDir, { onWarning: (message) => warnings.push(message) });
      if (dir === undefined) return undefined;
      return { ...(await openCheckpoint(dir)), warnings };
    },
  };
}

/** Opens (and verifies) the checkpoint directory `dir` as a {@link StoredCheckpoint}. */
export async function openCheckpoint(dir: string): Promise<StoredCheckpoint> {
  const manifest = await readCheckpointManifest(dir);
  return {
    location: dir,
    step: manifest.step,
    meta: manifest.meta,
    read: (path) => readCheckpointFile(dir, path),
    readText: async (path) => new TextDecoder().decode(await readCheckpointFile(dir, path)),
  };
}
