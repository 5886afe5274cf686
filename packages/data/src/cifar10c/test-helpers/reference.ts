// Test-only helpers: read the CIFAR-10-C reference vectors in ../shared in place (never copied).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cifar10cReferenceDir, cifarSampleDir } from '@moco-robust/testing';
import type { FrostTexture } from '../corruption';
import { loadFrostTextures } from '../frost-textures';

/** Images of a CIFAR binary file as uint8 HWC RGB (3072 values each) with their labels. */
export interface HwcImages {
  images: Uint8Array[];
  labels: Uint8Array;
}

/** Reads the first `count` records of a CIFAR-10 binary file into HWC images. */
export function readCifarBinHwc(path: string, count = 64): HwcImages {
  const bytes = readFileSync(path);
  if (bytes.length < count * 3073)
    throw new Error(`${path}: expected at least ${count} records of 3073 bytes, got ${bytes.length} bytes`);
  const images: Uint8Array[] = [];
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const record = n * 3073;
    labels[n] = bytes[record];
    const image = new Uint8Array(3072);
    for (let p = 0; p < 1024; p++) {
      image[p * 3] = bytes[record + 1 + p];
      image[p * 3 + 1] = bytes[record + 1 + 1024 + p];
      image[p * 3 + 2] = bytes[record + 1 + 2048 + p];
    }
    images.push(image);
  }
  return { images, labels };
}

let clean: HwcImages | undefined;

/**
 * The 64 clean inputs of the reference (records 0–63 of the sample's test batch, read once), or undefined when
 * absent.
 */
export function cleanReferenceImages(): HwcImages | undefined {
  const dir = cifarSampleDir();
  if (dir !== undefined) clean ??= readCifarBinHwc(join(dir, 'test_batch.bin'));
  return clean;
}

/**
 * The reference's five down-scaled frost textures (`frost_small/`), or undefined when the reference folder is absent.
 */
export async function referenceFrostTextures(): Promise<FrostTexture[] | undefined> {
  const dir = cifar10cReferenceDir();
  return dir === undefined ? undefined : loadFrostTextures(join(dir, 'frost_small'));
}

/** The reference output `<name>_s<severity>.bin`. */
export function referenceOutputs(name: string, severity: number): HwcImages {
  return readCifarBinHwc(referenceFile(`${name}_s${severity}.bin`));
}

/** Path of a file in the reference folder; throws when the folder is absent (callers run only when it is present). */
function referenceFile(...parts: string[]): string {
  const dir = cifar10cReferenceDir();
  if (dir === undefined) throw new Error('CIFAR-10-C reference folder is absent');
  return join(dir, ...parts);
}

/** Per-image recorded draws of `params/<name>_s<severity>.json` (the `images` array). */
export function referenceDraws(name: string, severity: number): Record<string, unknown>[] {
  const parsed = JSON.parse(readFileSync(referenceFile('params', `${name}_s${severity}.json`), 'utf8')) as {
    images: Record<string, unknown>[];
  };
  return parsed.images;
}

/** A `params/*.f32` field file as 64 little-endian float32 fields of 32×32 (row-major). */
export function referenceField(fileName: string): Float32Array[] {
  const bytes = readFileSync(referenceFile('params', fileName));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Float32Array[] = [];
  for (let n = 0; n < bytes.length / 4096; n++) {
    const field = new Float32Array(1024);
    for (let i = 0; i < 1024; i++) field[i] = view.getFloat32((n * 1024 + i) * 4, true);
    fields.push(field);
  }
  return fields;
}

/** `[mean, sd]` across seeds of one 64-image average. */
export type SeedSpread = [number, number];

/** Reference statistics of one corruption and severity (`stats.json`). */
export interface ReferenceStatistics {
  mad: number;
  mean: number;
  std: number;
  psnr: number;
  seed_spread?: { mad: SeedSpread; mean: SeedSpread; std: SeedSpread; psnr: SeedSpread };
}

/** `stats.json → corruptions[name].severities[severity]`. */
export function referenceStatistics(name: string, severity: number): ReferenceStatistics {
  const stats = JSON.parse(readFileSync(referenceFile('stats.json'), 'utf8'));
  return stats.corruptions[name].severities[String(severity)] as ReferenceStatistics;
}
