import { DataFormatError } from '@moco-robust/core';

/** Bytes of one record of the official binary format: 1 label byte + 1024 R + 1024 G + 1024 B. */
export const CIFAR10_RECORD_BYTES = 3073;

/** The five training files of the official binary release, in order (each 10,000 records there). */
export const CIFAR10_TRAIN_FILES: readonly string[] = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
];

/** The test file of the official binary release. */
export const CIFAR10_TEST_FILE = 'test_batch.bin';

/** The ten CIFAR-10 classes, in label order. */
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

/** CIFAR images in host layout: uint8 HWC rows of 32·32·3 bytes and int32 labels. */
export interface Cifar10Images {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
}

/**
 * Parses a file of the official CIFAR-10 binary format (any number of records, including 0) into HWC
 * images and labels. A length that is not a multiple of 3073 or a label above 9 throws a
 * {@link DataFormatError} naming `path` and the byte offset.
 */
export function parseCifar10(bytes: Uint8Array, path: string): Cifar10Images {
  if (bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const complete = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
    throw new DataFormatError({
      path,
      offset: complete * CIFAR10_RECORD_BYTES,
      message:
        `truncated or not a CIFAR-10 binary file: ${bytes.length} bytes is not ` +
        `a whole number of 3073-byte records (record ${complete} is incomplete)`,
    });
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const offset = i * CIFAR10_RECORD_BYTES;
    const label = bytes[offset];
    if (label > 9)
      throw new DataFormatError({ path, offset, message: `record ${i} has label ${label}; CIFAR-10 labels are 0–9` });
    labels[i] = label;
    const out = i * 3072;
    for (let p = 0; p < 1024; p++) {
      images[out + p * 3] = bytes[offset + 1 + p];
      images[out + p * 3 + 1] = bytes[offset + 1025 + p];
      images[out + p * 3 + 2] = bytes[offset + 2049 + p];
    }
  }
  return { images, labels, count };
}

/** Concatenates image sets (e.g. the five training batches). */
export function concatImages(parts: Cifar10Images[]): Cifar10Images {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * 3072);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count };
}

/** The first `count` images of a set (a view, no copy). */
export function takeImages(set: Cifar10Images, count: number): Cifar10Images {
  const n = Math.min(count, set.count);
  return { images: set.images.subarray(0, n * 3072), labels: set.labels.subarray(0, n), count: n };
}
