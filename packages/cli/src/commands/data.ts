import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALL_CORRUPTIONS,
  CIFAR10_CLASSES,
  CIFAR10_SOURCE,
  CIFAR10C_SOURCE,
  defaultCacheDir,
  downloadCifar10,
  downloadCifar10C,
  FROST_TEXTURES_BASE_URL,
  fetchFrostTextures,
  findCifar10,
  loadCifar10,
} from '@moco-robust/data';
import { ProgressRenderer } from '../progress';
import { frostCacheDir } from '../run/frost';
import type { CommandInput } from '../command-table';
import type { DATA_FLAGS } from '../flags/data-flags';
import { UsageError } from '../usage-error';

/** `moco-robust data info`. */
export async function handler({ values, action }: CommandInput<typeof DATA_FLAGS>): Promise<number> {
  if (action === 'download') return download(values);
  const folder = findCifar10(values.data);
  if (!folder)
    throw new UsageError('data: no CIFAR-10 binary files found: pass --data <folder> or set MOCO_ROBUST_DATA');
  const cifar = await loadCifar10(folder);
  const histogram = (labels: Int32Array) =>
    Object.fromEntries(CIFAR10_CLASSES.map((name, c) => [name, labels.filter((l) => l === c).length]));
  const info: Record<string, unknown> = {
    folder,
    train: { images: cifar.train.count, classes: histogram(cifar.train.labels) },
    test: { images: cifar.test.count, classes: histogram(cifar.test.labels) },
  };
  if (values.cifar10c) {
    info.cifar10c = {
      folder: values.cifar10c,
      labels: existsSync(join(values.cifar10c, 'labels.npy')),
      present: ALL_CORRUPTIONS.filter((c) => existsSync(join(values.cifar10c!, `${c}.npy`))),
      missing: ALL_CORRUPTIONS.filter((c) => !existsSync(join(values.cifar10c!, `${c}.npy`))),
    };
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
    return 0;
  }
  process.stdout.write(
    `CIFAR-10 in ${folder}\n  train ${cifar.train.count} images · test ${cifar.test.count} images\n`,
  );
  for (const name of CIFAR10_CLASSES)
    process.stdout.write(
      `  ${name.padEnd(11)} train ` +
        `${String((info.train as { classes: Record<string, number> }).classes[name]).padStart(5)} ` +
        `· test ${String((info.test as { classes: Record<string, number> }).classes[name]).padStart(5)}\n`,
    );
  if (info.cifar10c) {
    const c = info.cifar10c as { present: string[]; missing: string[]; labels: boolean };
    const missing = c.missing.length ? ` (missing: ${c.missing.join(', ')})` : '';
    process.stdout.write(
      `CIFAR-10-C in ${values.cifar10c}: ${c.present.length} of 19 ` +
        `corruptions${c.labels ? '' : ', labels.npy missing'}${missing}\n`,
    );
  }
  return 0;
}

async function download(values: {
  cache?: string;
  url?: string;
  'with-cifar10c'?: boolean;
  frost?: boolean;
  'frost-url'?: string;
  json?: boolean;
}): Promise<number> {
  const renderer = new ProgressRenderer();
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const cacheDir = values.cache ?? defaultCacheDir();
  const onEvent = renderer.listener;
  try {
    if (values.frost) {
      const dir = frostCacheDir(cacheDir);
      renderer.startPhase(`frost textures (${values['frost-url'] ?? FROST_TEXTURES_BASE_URL})`);
      const textures = await fetchFrostTextures({ cacheDir: dir, baseUrl: values['frost-url'], onEvent });
      renderer.finishLine();
      process.stdout.write(
        values.json
          ? `${JSON.stringify({ frost: dir, textures: textures.length })}\n`
          : `frost textures: ${textures.length} in ${dir} (SHA-256 verified; eval, corrupt and demo use them)\n`,
      );
      return 0;
    }
    renderer.startPhase(`CIFAR-10 (${values.url ?? CIFAR10_SOURCE.url})`);
    const archive = await downloadCifar10({ cacheDir, url: values.url, onEvent, signal: controller.signal });
    const result: Record<string, string> = { cifar10: archive };
    if (values['with-cifar10c']) {
      renderer.startPhase(`CIFAR-10-C (${CIFAR10C_SOURCE.url})`);
      result.cifar10c = await downloadCifar10C({ cacheDir, onEvent, signal: controller.signal });
    }
    renderer.finishLine();
    process.stdout.write(
      values.json
        ? `${JSON.stringify(result)}\n`
        : `CIFAR-10: ${archive} (MD5 verified)\n` +
            (result.cifar10c ? `CIFAR-10-C: ${result.cifar10c} (use eval --cifar10c ${result.cifar10c})\n` : ''),
    );
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
