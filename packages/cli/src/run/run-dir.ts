import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { atomicWriteFile, FileSystemError } from '@moco-robust/core';
import { ProgressRenderer } from '../progress';
import { UsageError } from '../usage-error';

/** An open run directory: where files go, the renderer of its events (also the JSONL log) and the Ctrl-C signal. */
export interface RunDir {
  out: string;
  renderer: ProgressRenderer;
  /** Aborted on the first Ctrl-C: the libraries save a checkpoint and stop; a second Ctrl-C exits at once. */
  signal: AbortSignal;
  resumed: boolean;
  /** Writes a JSON file in the run directory atomically. */
  writeJson(name: string, value: unknown): Promise<void>;
  /**
   * Runs the start of a run (backend, config.json, loading models); when it fails, puts the output folder back
   * exactly as it was before {@link openRunDir} (a new folder is removed, a resumed run's log is cut back) and
   * rethrows.
   */
  starting<T>(start: () => Promise<T>): Promise<T>;
  close(): void;
}

/**
 * Refuses an output folder that already holds files, before anything is written (messages name the command and the
 * folder).
 */
export async function assertEmptyOutput(command: string, out: string, hint = 'choose a new folder'): Promise<string[]> {
  const existing = await readdir(out).catch(() => [] as string[]);
  if (existing.length > 0)
    throw new UsageError(`${command}: --out ${out} already holds files; ${hint} (nothing was changed)`);
  return existing;
}

/**
 * Opens the run directory of `command`: a new or empty one (an occupied one is refused and left
 * untouched), or with `resume` an existing one holding `config.json`. Events are appended to
 * `events.jsonl`; Ctrl-C aborts the returned signal.
 */
export async function openRunDir(
  command: string,
  options: { out?: string; resume?: boolean; quiet?: boolean },
): Promise<RunDir> {
  const out = resolve(options.out ?? join('runs', `${command}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  await assertWritableFolder(out);
  const existed = await stat(out).then(
    () => true,
    () => false,
  );
  const logFile = join(out, 'events.jsonl');
  const logBytes = await stat(logFile).then(
    (s) => s.size,
    () => undefined,
  );
  if (options.resume) {
    const existing = await readdir(out).catch(() => [] as string[]);
    if (!existing.includes('config.json'))
      throw new UsageError(
        `${command}: --resume needs a run directory with config.json; ${out} has none (nothing was changed)`,
      );
  } else {
    await assertEmptyOutput(command, out, 'choose a new directory or pass --resume');
  }
  const created = await mkdir(out, { recursive: true }).catch((error) => {
    throw FileSystemError.from(error, out, 'create the folder') ?? error;
  });
  const renderer = new ProgressRenderer({ logFile, quiet: options.quiet });
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    renderer.finishLine();
    renderer.line('interrupted: saving a checkpoint… (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return {
    out,
    renderer,
    signal: controller.signal,
    resumed: Boolean(options.resume),
    writeJson: async (name, value) => {
      await atomicWriteFile(join(out, name), `${JSON.stringify(value, null, 2)}\n`).catch((error) => {
        throw FileSystemError.from(error, join(out, name)) ?? error;
      });
    },
    async starting(start) {
      try {
        return await start();
      } catch (error) {
        // a failed start leaves the folder as it was: remove what this run created, cut the log back
        if (created !== undefined) await rm(created, { recursive: true, force: true });
        else if (!existed || !options.resume) {
          for (const name of await readdir(out).catch(() => [] as string[]))
            await rm(join(out, name), { recursive: true, force: true });
        } else if (logBytes === undefined) await rm(logFile, { force: true });
        else await truncate(logFile, logBytes).catch(() => undefined);
        throw error;
      }
    },
    close: () => process.off('SIGINT', onSigint),
  };
}

/**
 * Refuses an output path that cannot become a writable folder, before anything is written: a file in its place or
 * on its way (ENOTDIR), a read-only file system (EROFS) or no permission (EACCES) on the nearest existing folder.
 */
export async function assertWritableFolder(out: string): Promise<void> {
  let path = out;
  for (;;) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined; // look further up
      throw FileSystemError.from(error, path, 'use the folder') ?? error;
    });
    if (info && !info.isDirectory())
      throw new FileSystemError({ path, errno: 'ENOTDIR', action: `use ${out} as the output folder` });
    if (info) break;
    if (dirname(path) === path) return;
    path = dirname(path);
  }
  await access(path, constants.W_OK).catch((error) => {
    throw FileSystemError.from(error, path, 'write into the folder') ?? error;
  });
}

/**
 * Writes the `config.json` of a phase folder of a bigger run (the demo's `pretrain/`, `finetune/`, `control/finetune/`)
 * unless it has one, so `pretrain --resume` / `finetune --resume` can continue that folder on its own.
 */
export async function writePhaseConfig(dir: string, config: object): Promise<void> {
  const path = join(dir, 'config.json');
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  )
    return;
  await atomicWriteFile(path, `${JSON.stringify(config, null, 2)}\n`).catch((error) => {
    throw FileSystemError.from(error, path) ?? error;
  });
}

/** The `config.json` a run saved (resume uses it instead of presets and flags). */
export async function readRunConfig<T>(out: string): Promise<T> {
  try {
    return JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as T;
  } catch (error) {
    throw new UsageError(
      `--resume: ${join(out, 'config.json')} is not readable JSON (${(error as Error).message.split('\n')[0]})`,
    );
  }
}

/**
 * The fault-injection seam of the crash tests: `MOCO_ROBUST_TEST_CHECKPOINT_FAULT=<stage>@<n>` kills the process
 * (SIGKILL: no clean-up runs, as in a power cut) when the `n`-th checkpoint write of this process reaches `<stage>`
 * of the protocol (`temp-created`, `files-written`, `manifest-written`, `renamed`, `latest-switched`,
 * `replaced-removed`, `pruned`); `<stage>@<n>:<ERRNO>` throws that system error there instead (e.g. `ENOSPC`, a full
 * disk). Unset: no hook.
 */
export function checkpointFaultHook(
  setting = process.env.MOCO_ROBUST_TEST_CHECKPOINT_FAULT,
): ((stage: string, info: { dir: string }) => void) | undefined {
  if (!setting) return undefined;
  const [where, errno] = setting.split(':');
  const [stage, nth] = where.split('@');
  const target = Number(nth ?? 1);
  let writes = 0;
  return (reached, info) => {
    if (reached === 'temp-created') writes++;
    if (reached !== stage || writes !== target) return;
    if (!errno) process.kill(process.pid, 'SIGKILL');
    throw Object.assign(new Error(`${errno}: injected fault, write '${info.dir}'`), { code: errno });
  };
}
