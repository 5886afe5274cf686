import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFormatError, InvalidArgumentError } from '@moco-robust/core';
import type { Cifar10Images } from '../cifar10/parse-cifar10';
import { ALL_CORRUPTIONS } from './corruption';
import type { CorruptionName, Severity } from './corruption';
import { decodeNpyData, npyElementCount, parseNpyHeader } from './npy';
import type { NpyHeader } from './npy';

/** One severity block of a CIFAR-10-C corruption: uint8 HWC images and int32 labels. */
export interface Cifar10CBlock extends Cifar10Images {
  corruption: CorruptionName;
  severity: Severity;
}

const IMAGE_BYTES = 32 * 32 * 3;
const HEADER_PROBE = 4096;

/** Opens a CIFAR-10-C file for reading, or throws `DataFormatError` naming it. */
export async function openData(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (cause) {
    throw new DataFormatError({
      path,
      message: 'cannot open this CIFAR-10-C file (expected the release layout: <corruption>.npy and labels.npy)',
      cause,
    });
  }
}

/** Reads exactly `length` bytes at `position`, or throws `DataFormatError` (truncated) naming the file and offset. */
export async function readExactly(
  file: FileHandle,
  path: string,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done);
    if (bytesRead === 0)
      throw new DataFormatError({
        path,
        offset: position + done,
        message: `truncated: expected ${length} bytes from byte ${position}, the file ends after ${done}`,
      });
    done += bytesRead;
  }
  return buffer;
}

/** The `.npy` header of an open file, checked against the file's size (truncated files throw). */
export async function readHeader(file: FileHandle, path: string): Promise<NpyHeader> {
  const { size } = await file.stat();
  const probe = await readExactly(file, path, 0, Math.min(size, HEADER_PROBE));
  let header: NpyHeader;
  try {
    header = parseNpyHeader(probe, path);
  } catch (error) {
    if (size <= HEADER_PROBE) throw error;
    header = parseNpyHeader(await readExactly(file, path, 0, Math.min(size, 12 + 0x100000)), path); // very long header
  }
  const needed = header.dataOffset + npyElementCount(header.shape) * header.itemSize;
  if (size < needed) {
    throw new DataFormatError({
      path,
      offset: size,
      message:
        `truncated: shape (${header.shape.join(', ')}) of ` +
        `${header.dtype} needs ${needed} bytes, the file has ${size}`,
    });
  }
  return header;
}

/**
 * Loads one severity of one corruption from a folder in the official CIFAR-10-C release layout
 * (`<corruption>.npy`: uint8 [5N, 32, 32, 3] with severities 1–5 in consecutive blocks of N, and
 * `labels.npy` of 5N or N labels), reading only that block's bytes. Bad headers, shapes or
 * truncated files throw `DataFormatError` naming the file and byte offset.
 */
export async function loadCifar10C(
  dir: string,
  corruption: CorruptionName,
  severity: Severity,
): Promise<Cifar10CBlock> {
  if (!(ALL_CORRUPTIONS as readonly string[]).includes(corruption)) {
    throw new InvalidArgumentError({
      argument: 'corruption',
      expected: `one of ${ALL_CORRUPTIONS.join(', ')}`,
      received: corruption,
    });
  }
  if (![1, 2, 3, 4, 5].includes(severity))
    throw new InvalidArgumentError({ argument: 'severity', expected: 'an integer 1–5', received: severity });
  const imagePath = join(dir, `${corruption}.npy`);
  const labelPath = join(dir, 'labels.npy');
  const imageFile = await openData(imagePath);
  let images: Uint8Array;
  let count: number;
  try {
    const header = await readHeader(imageFile, imagePath);
    const [total, height, width, channels] = header.shape;
    if (
      header.dtype !== 'uint8' ||
      header.shape.length !== 4 ||
      height !== 32 ||
      width !== 32 ||
      channels !== 3 ||
      total % 5 !== 0
    ) {
      throw new DataFormatError({
        path: imagePath,
        offset: 0,
        message: `expected uint8 images of shape (5N, 32, 32, 3), got ${header.dtype} (${header.shape.join(', ')})`,
      });
    }
    count = total / 5;
    images = await readExactly(
      imageFile,
      imagePath,
      header.dataOffset + (severity - 1) * count * IMAGE_BYTES,
      count * IMAGE_BYTES,
    );
  } finally {
    await imageFile.close();
  }
  const labelFile = await openData(labelPath);
  let labels: Int32Array;
  try {
    const header = await readHeader(labelFile, labelPath);
    const length = header.shape[0];
    if (header.shape.length !== 1 || (length !== 5 * count && length !== count)) {
      throw new DataFormatError({
        path: labelPath,
        offset: 0,
        message:
          `expected labels of shape (${5 * count},) or (${count},) to ` +
          `match ${corruption}.npy, got (${header.shape.join(', ')})`,
      });
    }
    const first = length === count ? 0 : (severity - 1) * count;
    const position = header.dataOffset + first * header.itemSize;
    const decoded = decodeNpyData(
      await readExactly(labelFile, labelPath, position, count * header.itemSize),
      header.dtype,
      count,
      labelPath,
      position,
    );
    labels = Int32Array.from(decoded);
    for (let i = 0; i < count; i++) {
      if (labels[i] < 0 || labels[i] > 9) {
        throw new DataFormatError({
          path: labelPath,
          offset: position + i * header.itemSize,
          message: `label ${labels[i]} at index ${first + i}; CIFAR-10 labels are 0–9`,
        });
      }
    }
  } finally {
    await labelFile.close();
  }
  return { corruption, severity, images, labels, count };
}
