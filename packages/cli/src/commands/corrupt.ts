import { join, resolve } from 'node:path';
import { atomicWriteFile } from '@moco-robust/core';
import { availableParallelism } from 'node:os';
import {
  ALL_CORRUPTIONS,
  corruptImages,
  corruptImagesParallel,
  findCifar10,
  loadCifar10,
  SEVERITIES,
  takeImages,
  writeCifar10C,
  type CorruptImagesParallelEvent,
  type CorruptionName,
  type Severity,
} from '@moco-robust/data';
import { ProgressRenderer } from '../progress';
import { integerFlag } from '../parse-flags';
import type { CommandInput } from '../command-table';
import type { CORRUPT_FLAGS } from '../flags/corrupt-flags';
import { loadFrostFlag } from '../run/frost';
import { assertEmptyOutput } from '../run/run-dir';
import { UsageError } from '../usage-error';

/** Parses `1-5`, `3` or `1,3,5`. */
export function parseSeverities(text: string): Severity[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const range = /^\s*(\d)\s*-\s*(\d)\s*$/.exec(part);
    if (range) for (let s = Number(range[1]); s <= Number(range[2]); s++) out.push(s);
    else out.push(Number(part.trim()));
  }
  if (out.length === 0 || out.some((s) => !Number.isInteger(s) || s < 1 || s > 5) || new Set(out).size !== out.length)
    throw new UsageError(`corrupt: --severities must be distinct severities 1–5 (e.g. 1-5, 3, 1,3,5); got '${text}'`);
  return out as Severity[];
}

/** `moco-robust corrupt`. */
export async function handler({ values }: CommandInput<typeof CORRUPT_FLAGS>): Promise<number> {
  if (!values.out) throw new UsageError('corrupt: --out <folder> is required');
  const corruptions = (values.corruptions?.split(',').map((s) => s.trim()) ?? [...ALL_CORRUPTIONS]) as CorruptionName[];
  for (const c of corruptions)
    if (!(ALL_CORRUPTIONS as readonly string[]).includes(c))
      throw new UsageError(`corrupt: --corruptions must list names among ${ALL_CORRUPTIONS.join(', ')}; got '${c}'`);
  const severities = parseSeverities(values.severities!);
  const seed = integerFlag('corrupt', 'seed', values.seed, 0);
  const out = resolve(values.out);
  await assertEmptyOutput('corrupt', out);
  const folder = findCifar10(values.data);
  if (!folder)
    throw new UsageError('corrupt: no CIFAR-10 binary files found: pass --data <folder> or set MOCO_ROBUST_DATA');
  const frostTextures = corruptions.includes('frost') ? await loadFrostFlag(values.frost) : undefined;
  const all = await loadCifar10(folder);
  const split = values.split === 'train' ? all.train : all.test;
  const images =
    values.images === undefined
      ? split
      : takeImages(split, integerFlag('corrupt', 'images', values.images, split.count));
  const renderer = new ProgressRenderer();
  renderer.startPhase(
    `CIFAR-10-C (${corruptions.length} corruptions × ${severities.length} ` +
      `severities of ${images.count} ${values.split} images)`,
  );
  const total = corruptions.length * severities.length;
  let done = 0;
  const skipped: string[] = [];
  const workers =
    values.workers === undefined
      ? availableParallelism()
      : Math.max(1, integerFlag('corrupt', 'workers', values.workers, 1));
  const blockImages = integerFlag('corrupt', 'block-images', values['block-images'], 1000);
  if (blockImages < 1) throw new UsageError(`corrupt: --block-images must be ≥ 1; got ${blockImages}`);
  const options = {
    corruptions,
    severities,
    seed,
    frostTextures,
    blockImages,
    onEvent: (event: CorruptImagesParallelEvent) => {
      if (event.type === 'corruption-end')
        renderer.listener({
          type: 'eval-progress',
          done: ++done,
          total,
          attack: `${event.corruption} s${event.severity}`,
        });
      else if (event.type === 'corruption-skipped') {
        skipped.push(event.corruption);
        renderer.line(`  skipped ${event.corruption}: ${event.reason}`);
      }
    },
  };
  const blocks =
    workers > 1
      ? corruptImagesParallel(images.images, images.count, { ...options, workers })
      : corruptImages(images.images, images.count, options);
  const started = performance.now();
  // one block in memory at a time, each written in its place; the release layout for 1–5, else the severities given
  await writeCifar10C(out, images.labels, blocks, { severities });
  const allFive = severities.length === 5 && severities.every((s, i) => s === SEVERITIES[i]);
  if (!allFive)
    await atomicWriteFile(join(out, 'severities.json'), JSON.stringify({ severities, imagesPerBlock: images.count }));
  renderer.finishLine();
  const seconds = (performance.now() - started) / 1000;
  const written = corruptions.filter((c) => !skipped.includes(c));
  const summary = {
    out,
    split: values.split,
    images: images.count,
    workers,
    corruptions: written,
    skipped,
    severities,
    seed,
    seconds,
    imagesPerSecond: (images.count * written.length * severities.length) / seconds,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    process.stdout.write(
      `\n${written.length} corruptions × ${severities.length} severities of ${images.count} ${values.split} ` +
        `images → ${out} (${seconds.toFixed(1)} s)\n${skipped.length ? `skipped: ${skipped.join(', ')}\n` : ''}`,
    );
  return 0;
}
