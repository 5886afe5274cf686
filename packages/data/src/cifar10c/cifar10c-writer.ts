import { mkdir, open, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile, InvalidArgumentError } from '@moco-robust/core';
import type { CorruptionName, Severity } from './corruption';
import { npyHeaderBytes, writeNpy } from './npy';
import type { CorruptedImages } from './registry';

/** Writes generated corruptions in the official CIFAR-10-C release layout. */
export interface Cifar10CWriter {
  /** Writes one severity block (N images) of a corruption; a corruption's file is complete after its 5 severities. */
  write(block: CorruptedImages): Promise<void>;
  /**
   * Closes the writer; throws `InvalidArgumentError` listing corruptions still missing severities (left as
   * `.npy.part`).
   */
  close(): Promise<void>;
}

interface OpenFile {
  handle: FileHandle;
  dataOffset: number;
  severities: Set<Severity>;
}

const IMAGE_BYTES = 32 * 32 * 3;

/**
 * Creates `dir` with `labels.npy` (uint8 [5N], the labels repeated once per severity, as the
 * release) and returns a writer of `<corruption>.npy` files (uint8 [5N, 32, 32, 3], severities
 * 1–5 in consecutive blocks, written in any order; kept as `<corruption>.npy.part` until complete).
 */
export async function createCifar10CWriter(dir: string, labels: ArrayLike<number>): Promise<Cifar10CWriter> {
  const count = labels.length;
  const repeated = new Uint8Array(5 * count);
  for (let i = 0; i < count; i++) {
    const label = labels[i];
    if (!(Number.isInteger(label) && label >= 0 && label <= 9))
      throw new InvalidArgumentError({ argument: `labels[${i}]`, expected: 'a CIFAR-10 label 0–9', received: label });
    for (let s = 0; s < 5; s++) repeated[s * count + i] = label;
  }
  await mkdir(dir, { recursive: true });
  await atomicWriteFile(join(dir, 'labels.npy'), writeNpy({ dtype: 'uint8', shape: [5 * count], data: repeated }));
  const files = new Map<CorruptionName, OpenFile>();
  return {
    async write(block) {
      const { corruption, severity, images } = block;
      if (images.length !== count * IMAGE_BYTES) {
        throw new InvalidArgumentError({
          argument: 'block.images',
          expected: `${count}×32×32×3 = ${count * IMAGE_BYTES} bytes (one severity of ${count} images)`,
          received: `${images.length} bytes`,
        });
      }
      if (![1, 2, 3, 4, 5].includes(severity))
        throw new InvalidArgumentError({
          argument: 'block.severity',
          expected: 'an integer 1–5',
          received: severity,
        });
      let file = files.get(corruption);
      if (file === undefined) {
        const header = npyHeaderBytes('uint8', [5 * count, 32, 32, 3]);
        const handle = await open(join(dir, `${corruption}.npy.part`), 'w');
        await handle.write(header, 0, header.length, 0);
        await handle.truncate(header.length + 5 * count * IMAGE_BYTES);
        file = { handle, dataOffset: header.length, severities: new Set() };
        files.set(corruption, file);
      }
      await file.handle.write(images, 0, images.length, file.dataOffset + (severity - 1) * count * IMAGE_BYTES);
      file.severities.add(severity);
      if (file.severities.size === 5) {
        await file.handle.sync(); // on the disk before the rename makes it the complete file
        await file.handle.close();
        await rename(join(dir, `${corruption}.npy.part`), join(dir, `${corruption}.npy`));
        files.delete(corruption);
      }
    },
    async close() {
      const incomplete: string[] = [];
      for (const [corruption, file] of files) {
        await file.handle.close();
        incomplete.push(`${corruption} (severities ${[...file.severities].sort().join(', ')})`);
      }
      files.clear();
      if (incomplete.length > 0) {
        throw new InvalidArgumentError({
          argument: 'blocks',
          expected: 'all five severities of every corruption written',
          received: incomplete.join('; '),
          hint: 'The incomplete files are kept as <corruption>.npy.part.',
        });
      }
    },
  };
}

/**
 * Writes every block of `blocks` (e.g. `corruptImages(...)` over all 5 severities) with {@link createCifar10CWriter}.
 */
export async function writeCifar10C(
  dir: string,
  labels: ArrayLike<number>,
  blocks: Iterable<CorruptedImages>,
): Promise<void> {
  const writer = await createCifar10CWriter(dir, labels);
  try {
    for (const block of blocks) await writer.write(block);
  } finally {
    await writer.close();
  }
}
