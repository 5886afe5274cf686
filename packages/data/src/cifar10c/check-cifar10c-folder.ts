import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFormatError, FileSystemError } from '@moco-robust/core';
import { openData, readExactly, readHeader } from './cifar10c-loader';
import { ALL_CORRUPTIONS, type CorruptionName } from './corruption';
import { decodeNpyData } from './npy';

/** What {@link checkCifar10CFolder} found: the corruptions present and those left out (each to be reported). */
export interface Cifar10CFolder {
  /** Corruptions with a valid `<corruption>.npy`, in release order. */
  present: CorruptionName[];
  /** Corruptions without a file, with the reason to report (e.g. frost without its textures). */
  missing: Array<{ corruption: CorruptionName; reason: string }>;
  /** Images per severity block (N). */
  count: number;
}

/**
 * Checks a whole CIFAR-10-C folder (official release layout) before any evaluation starts, so a bad last file does
 * not throw away the work done on the others: every `<corruption>.npy` present must be a file of uint8
 * `[5N, 32, 32, 3]` with N ≥ 1 and the same N in every file, whole (not truncated); `labels.npy` must hold 5N or N
 * labels in 0–9. A corruption without its file is listed in `missing` (frost: written without its textures by
 * `moco-robust corrupt`); a folder with none is refused. Throws `DataFormatError` naming the file, or
 * `FileSystemError` (EISDIR) for a folder where a `.npy` belongs.
 */
export async function checkCifar10CFolder(
  dir: string,
  corruptions: readonly CorruptionName[] = ALL_CORRUPTIONS,
): Promise<Cifar10CFolder> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new DataFormatError({
      path: dir,
      message: 'is not a folder of CIFAR-10-C arrays (<corruption>.npy, labels.npy)',
    });
  if (await stat(join(dir, 'severities.json')).catch(() => undefined))
    throw new DataFormatError({
      path: join(dir, 'severities.json'),
      message: 'this folder holds a subset of the severities (corrupt --severities); evaluation needs all five (1-5)',
    });
  const present: CorruptionName[] = [];
  const missing: Cifar10CFolder['missing'] = [];
  let count: number | undefined;
  let countFrom = '';
  for (const corruption of corruptions) {
    const path = join(dir, `${corruption}.npy`);
    const entry = await stat(path).catch(() => undefined);
    if (!entry) {
      missing.push({
        corruption,
        reason:
          corruption === 'frost'
            ? 'no frost.npy in the folder (written without the frost textures)'
            : `no ${corruption}.npy in the folder`,
      });
      continue;
    }
    const n = await arrayCount(path, entry.isDirectory());
    if (count !== undefined && n !== count)
      throw new DataFormatError({
        path,
        offset: 0,
        message: `holds ${n} images per severity; ${countFrom} holds ${count} (every file must match)`,
      });
    count = n;
    countFrom = `${corruption}.npy`;
    present.push(corruption);
  }
  if (count === undefined)
    throw new DataFormatError({
      path: dir,
      message: `holds none of the CIFAR-10-C arrays (${corruptions.join(', ')}.npy)`,
    });
  await checkLabels(join(dir, 'labels.npy'), count);
  return { present, missing, count };
}

/** N of a `<corruption>.npy` of shape [5N, 32, 32, 3] (uint8, whole, N ≥ 1). */
async function arrayCount(path: string, isDirectory: boolean): Promise<number> {
  if (isDirectory) throw new FileSystemError({ path, errno: 'EISDIR', action: 'read the CIFAR-10-C array' });
  const file = await openData(path);
  try {
    const header = await readHeader(file, path); // throws when truncated
    const [total, height, width, channels] = header.shape;
    const shapeOk = header.shape.length === 4 && height === 32 && width === 32 && channels === 3;
    if (header.dtype !== 'uint8' || !shapeOk || total % 5 !== 0 || total === 0)
      throw new DataFormatError({
        path,
        offset: 0,
        message:
          `expected uint8 images of shape (5N, 32, 32, 3) with N ≥ 1, ` +
          `got ${header.dtype} (${header.shape.join(', ')})`,
      });
    return total / 5;
  } finally {
    await file.close();
  }
}

/** `labels.npy`: 5N or N labels, each 0–9. */
async function checkLabels(path: string, count: number): Promise<void> {
  const entry = await stat(path).catch(() => undefined);
  if (entry?.isDirectory()) throw new FileSystemError({ path, errno: 'EISDIR', action: 'read the labels' });
  const file = await openData(path);
  try {
    const header = await readHeader(file, path);
    const length = header.shape[0];
    if (header.shape.length !== 1 || (length !== 5 * count && length !== count))
      throw new DataFormatError({
        path,
        offset: 0,
        message: `expected labels of shape (${5 * count},) or (${count},), got (${header.shape.join(', ')})`,
      });
    const bytes = await readExactly(file, path, header.dataOffset, length * header.itemSize);
    const labels = decodeNpyData(bytes, header.dtype, length, path, header.dataOffset);
    for (let i = 0; i < length; i++)
      if (!(Number(labels[i]) >= 0 && Number(labels[i]) <= 9))
        throw new DataFormatError({
          path,
          offset: header.dataOffset + i * header.itemSize,
          message: `label ${labels[i]} at index ${i}; CIFAR-10 labels are 0–9`,
        });
  } finally {
    await file.close();
  }
}
