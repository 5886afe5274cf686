import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { atomicWriteFile } from '@moco-robust/core';
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
  if (options.resume) {
    const existing = await readdir(out).catch(() => [] as string[]);
    if (!existing.includes('config.json'))
      throw new UsageError(
        `${command}: --resume needs a run directory with config.json; ${out} has none (nothing was changed)`,
      );
  } else {
    await assertEmptyOutput(command, out, 'choose a new directory or pass --resume');
  }
  await mkdir(out, { recursive: true });
  const renderer = new ProgressRenderer({ logFile: join(out, 'events.jsonl'), quiet: options.quiet });
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
    writeJson: (name, value) => atomicWriteFile(join(out, name), `${JSON.stringify(value, null, 2)}\n`),
    close: () => process.off('SIGINT', onSigint),
  };
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
