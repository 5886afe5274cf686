import { mkdir, open, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile, InvalidArgumentError } from '@moco-robust/core';
import { SEVERITIES } from './corruption';
import type { CorruptionName, Severity } from './corruption';
import { npyHeaderBytes, writeNpy } from './npy';
import type { CorruptedImages } from './registry';

/** Writes generated corruptions in the official CIFAR-10-C release layout. */
export interface Cifar10CWriter {
  /**
   * Writes one block of a corruption at one severity — all N images, or images `firstImage`… of a generator called
   * with `blockImages` — in its place; a corruption's file is complete once every image of every severity is written.
   * Throws `InvalidArgumentError` for a block outside the images or severities, or one that overlaps what was written.
   */
  write(block: Cifar10CBlockToWrite): Promise<void>;
  /**
   * Closes the writer; throws `InvalidArgumentError` listing corruptions still missing images (left as
   * `.npy.part`).
   */
  close(): Promise<void>;
}

/** A block for {@link Cifar10CWriter.write}: a generator's block; `firstImage` defaults to 0. */
export type Cifar10CBlockToWrite = Omit<CorruptedImages, 'firstImage'> & { firstImage?: number };

/** Options of {@link createCifar10CWriter}. */
export interface Cifar10CWriterOptions {
  /**
   * The severities each file holds, in this order (distinct, 1–5); default 1–5, the release's layout. With
   * fewer, the files are [S·N, 32, 32, 3] and `labels.npy` has S·N labels, block k being `severities[k]`.
   */
  severities?: readonly Severity[];
}

interface OpenFile {
  handle: FileHandle;
  dataOffset: number;
  /** Per severity slot × image: whether it is written. */
  written: Uint8Array;
  missing: number;
}

const IMAGE_BYTES = 32 * 32 * 3;

/**
 * Creates `dir` with `labels.npy` (uint8 [S·N], the labels repeated once per severity, as the
 * release) and returns a writer of `<corruption>.npy` files (uint8 [S·N, 32, 32, 3], the severities in
 * consecutive blocks — 1–5 unless `options.severities` says otherwise — written block by block in any order,
 * so memory holds one block at a time; kept as `<corruption>.npy.part` until complete).
 */
export async function createCifar10CWriter(
  dir: string,
  labels: ArrayLike<number>,
  options: Cifar10CWriterOptions = {},
): Promise<Cifar10CWriter> {
  const count = labels.length;
  const severities = options.severities ?? SEVERITIES;
  if (
    severities.length === 0 ||
    new Set(severities).size !== severities.length ||
    !severities.every((s) => SEVERITIES.includes(s))
  )
    throw new InvalidArgumentError({
      argument: 'options.severities',
      expected: 'distinct severities 1–5',
      received: [...severities],
    });
  const slots = severities.length;
  const repeated = new Uint8Array(slots * count);
  for (let i = 0; i < count; i++) {
    const label = labels[i];
    if (!(Number.isInteger(label) && label >= 0 && label <= 9))
      throw new InvalidArgumentError({ argument: `labels[${i}]`, expected: 'a CIFAR-10 label 0–9', received: label });
    for (let s = 0; s < slots; s++) repeated[s * count + i] = label;
  }
  await mkdir(dir, { recursive: true });
  await atomicWriteFile(join(dir, 'labels.npy'), writeNpy({ dtype: 'uint8', shape: [slots * count], data: repeated }));
  const files = new Map<CorruptionName, OpenFile>();
  return {
    async write(block) {
      const { corruption, severity, images } = block;
      const firstImage = block.firstImage ?? 0;
      const slot = severities.indexOf(severity);
      if (slot < 0)
        throw new InvalidArgumentError({
          argument: 'block.severity',
          expected: `one of the writer's severities ${severities.join(', ')}`,
          received: severity,
        });
      const n = images.length / IMAGE_BYTES;
      if (!(Number.isInteger(firstImage) && firstImage >= 0 && Number.isInteger(n) && firstImage + n <= count)) {
        throw new InvalidArgumentError({
          argument: 'block.images',
          expected: `whole 32×32×3 images within the ${count} images (firstImage + n ≤ ${count})`,
          received: `${images.length} bytes from image ${firstImage}`,
        });
      }
      let file = files.get(corruption);
      if (file === undefined) {
        const header = npyHeaderBytes('uint8', [slots * count, 32, 32, 3]);
        const handle = await open(join(dir, `${corruption}.npy.part`), 'w');
        await handle.write(header, 0, header.length, 0);
        await handle.truncate(header.length + slots * count * IMAGE_BYTES);
        file = { handle, dataOffset: header.length, written: new Uint8Array(slots * count), missing: slots * count };
        files.set(corruption, file);
      }
      const at = slot * count + firstImage;
      if (file.written.subarray(at, at + n).some((w) => w === 1))
        throw new InvalidArgumentError({
          argument: 'block',
          expected: 'images not written before',
          received: `${corruption} severity ${severity}, images ${firstImage}–${firstImage + n - 1} again`,
        });
      await file.handle.write(images, 0, images.length, file.dataOffset + at * IMAGE_BYTES);
      file.written.fill(1, at, at + n);
      file.missing -= n;
      if (file.missing === 0) {
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
        const missing = severities.filter((_, k) =>
          file.written.subarray(k * count, (k + 1) * count).some((w) => w === 0),
        );
        incomplete.push(`${corruption} (severities ${missing.join(', ')} incomplete)`);
      }
      files.clear();
      if (incomplete.length > 0) {
        throw new InvalidArgumentError({
          argument: 'blocks',
          expected: `every image of severities ${severities.join(', ')} of every corruption written`,
          received: incomplete.join('; '),
          hint: 'The incomplete files are kept as <corruption>.npy.part.',
        });
      }
    },
  };
}

/**
 * Writes every block of `blocks` (e.g. `corruptImages(...)` or `corruptImagesParallel(...)` over all 5 severities, or
 * the severities of `options`) with {@link createCifar10CWriter}, one block in memory at a time.
 */
export async function writeCifar10C(
  dir: string,
  labels: ArrayLike<number>,
  blocks: Iterable<Cifar10CBlockToWrite> | AsyncIterable<Cifar10CBlockToWrite>,
  options: Cifar10CWriterOptions = {},
): Promise<void> {
  const writer = await createCifar10CWriter(dir, labels, options);
  try {
    for await (const block of blocks) await writer.write(block);
  } finally {
    await writer.close();
  }
}
