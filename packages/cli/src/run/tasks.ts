import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPretextTaskV1, PluginError, type PretextTaskV1 } from '@moco-robust/core';
import { MOCO_V1_AUGMENTATION, MOCO_V2_AUGMENTATION, randomCropFlip, twoViews } from '@moco-robust/data';
import { projectionHead } from '@moco-robust/models';
import { mocoTask } from '@moco-robust/moco';
import type { RunConfig } from '../presets';
import { closestName } from './closest-name';

/** Built-in methods; any other name is a plugin package. */
export const BUILT_IN_METHODS = ['moco-v1', 'moco-v2'] as const;

/** The plugin methods published as `@moco-robust/pretext-<name>`. */
export const KNOWN_PLUGIN_METHODS = ['rotation', 'jigsaw', 'selfie', 'rocl'] as const;

/** Chen et al.'s (CVPR 2020) pretext baselines, pre-trained on padded-random-crop + flip augmented images as there. */
const CHEN_BASELINES = ['rotation', 'jigsaw', 'selfie'];

/**
 * The package a plugin method loads: `rotation` → `@moco-robust/pretext-rotation`; a full package name is used as is.
 */
export function pluginPackage(method: string): string {
  return method.startsWith('@') || method.includes('/') ? method : `@moco-robust/pretext-${method}`;
}

/**
 * The pretext task factory of a pre-training run: MoCo-v1/v2 (built in) or a plugin package's default
 * export (a factory returning a `PretextTaskV1`), loaded with dynamic `import()` — before anything is
 * written, so a missing plugin is a {@link PluginError} saying what to install and nothing else happens.
 */
export async function pretextTaskFactory(
  config: Pick<RunConfig, 'pretrain' | 'seed'>,
  importer: (name: string) => Promise<unknown> = importPlugin,
): Promise<() => PretextTaskV1> {
  const p = config.pretrain;
  // the run's `pretrain.combine` replaces the method's own choice of training loss unless it is `task`
  const withCombine = (task: PretextTaskV1): PretextTaskV1 =>
    p.combine === undefined || p.combine === 'task' ? task : Object.assign(task, { combine: p.combine });
  if (p.method === 'moco-v1' || p.method === 'moco-v2') {
    const version = p.method === 'moco-v1' ? 'v1' : 'v2';
    // v1: the MoCo CIFAR-10 demo's augmentation; v2: the same plus Gaussian blur (docs/protocol.md, "Pre-training")
    const augmentation = version === 'v1' ? MOCO_V1_AUGMENTATION : MOCO_V2_AUGMENTATION;
    return () =>
      withCombine(
        mocoTask({
          version,
          augment: (images, rng) => twoViews(images, augmentation, rng),
          projectionHead: (o) => projectionHead(o),
          queueSize: p.queueSize,
          temperature: p.temperature,
        }),
      );
  }
  const name = pluginPackage(p.method);
  let module: { default?: unknown };
  try {
    module = (await importer(name)) as { default?: unknown };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((error as Error).message).includes(name)
    ) {
      throw new PluginError({ plugin: name, message: missingPluginMessage(p.method, name), cause: error });
    }
    throw new PluginError({
      plugin: name,
      message: `the plugin package ${name} failed to load: ${(error as Error).message.split('\n')[0]}`,
      cause: error,
    });
  }
  const factory = module.default;
  if (typeof factory !== 'function')
    throw new PluginError({
      plugin: name,
      message: `${name} has no default export factory (options) => PretextTaskV1`,
    });
  return () => {
    // every plugin gets the run's seed; Chen et al.'s baselines also their augmentation (4-pixel padded random crop +
    // flip)
    const options: Record<string, unknown> = { seed: config.seed };
    if (CHEN_BASELINES.includes(p.method))
      options.augment = (images: import('@tensorflow/tfjs-core').Tensor4D, rng: import('@moco-robust/core').Rng) =>
        randomCropFlip(images, rng);
    const task = (factory as (options: Record<string, unknown>) => unknown)(options);
    if (!isPretextTaskV1(task))
      throw new PluginError({
        plugin: name,
        message:
          `${name}'s default export did not return a PretextTaskV1 (specificationVersion ` +
          `'v1', name, createHeads, makeBatch, loss, state, loadState, combine)`,
      });
    return withCombine(task);
  };
}

/**
 * What to say when the package of `method` is not installed: the install line for a published plugin or a package
 * name; for a short name that is neither, the closest built-in or published method ("did you mean") or the list.
 */
function missingPluginMessage(method: string, name: string): string {
  const known = [...BUILT_IN_METHODS, ...KNOWN_PLUGIN_METHODS];
  const methods = `built-in methods: ${BUILT_IN_METHODS.join(', ')}; plugins: ${KNOWN_PLUGIN_METHODS.join(', ')}`;
  if (name === method || (KNOWN_PLUGIN_METHODS as readonly string[]).includes(method))
    return (
      `method '${method}' needs the plugin package ${name}, which is not installed: ` +
      `npm install ${name} (${methods})`
    );
  const suggestion = closestName(method, known);
  return (
    `method '${method}' needs the plugin package ${name}, which is not installed and is not a published plugin: ` +
    (suggestion ? `did you mean '${suggestion}'? (${methods})` : `${methods}; or give a plugin's package name`)
  );
}

/**
 * Imports a plugin installed in the user's project (found from the working directory upwards, so
 * `npx @moco-robust/cli` sees the project's plugins) or, failing that, next to the CLI.
 */
async function importPlugin(name: string): Promise<unknown> {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
        exports?: Record<string, unknown>;
        module?: string;
        main?: string;
      };
      const entry = conditionalEntry(pkg.exports?.['.']) ?? pkg.module ?? pkg.main ?? 'index.js';
      return import(pathToFileURL(join(dirname(manifest), entry)).href);
    }
    if (dirname(dir) === dir) break;
  }
  return import(name);
}

/** The ES-module file of an `exports` target: a path, or nested conditions (`import` / `node` / `default`). */
function conditionalEntry(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (typeof target !== 'object' || target === null) return undefined;
  for (const condition of ['import', 'node', 'default']) {
    const entry = conditionalEntry((target as Record<string, unknown>)[condition]);
    if (entry) return entry;
  }
  return undefined;
}
