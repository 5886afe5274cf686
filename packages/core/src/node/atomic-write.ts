import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileSystemError } from '../errors/errors';

/** Codes of platforms that refuse to open or fsync a folder (Windows, some network file systems): nothing to flush. */
const FOLDER_SYNC_UNSUPPORTED = new Set(['EINVAL', 'EISDIR', 'ENOTSUP', 'EPERM']);

/** Flushes a folder's entries (a rename into it) to disk; a no-op where the platform refuses to fsync folders. */
async function syncFolder(folder: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(folder, 'r');
  } catch (error) {
    if (FOLDER_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!FOLDER_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to `path` atomically and durably: a temporary file beside it is written, flushed to disk and renamed
 * over `path`, then the folder is flushed so the rename survives a power cut; readers see the old or the new content,
 * never a partial file. A file-system failure (full or read-only disk, permissions, a file where a folder belongs)
 * throws a {@link FileSystemError} naming `path`; the temporary file is removed.
 */
export async function atomicWriteFile(path: string, data: Uint8Array | string): Promise<void> {
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // EEXIST: a file stands where the folder belongs; opening the temporary file below then fails with ENOTDIR
    await mkdir(folder, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw FileSystemError.from(error, path) ?? error;
  }
  try {
    await syncFolder(folder);
  } catch (error) {
    throw FileSystemError.from(error, folder, 'flush the folder') ?? error;
  }
}
