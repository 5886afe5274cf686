import { join } from 'node:path';
import { atomicWriteFile } from '@moco-robust/core';
import type { ProgressRenderer } from '../progress';
import type { RunDir } from '../run/run-dir';

/**
 * A {@link RunDir} over a folder the grid already prepared (a cell's phase, a throw-away measurement): no Ctrl-C
 * handler of its own (the grid's signal is passed in), nothing to undo on a failed start.
 */
export function cellRunDir(options: {
  out: string;
  renderer: ProgressRenderer;
  signal: AbortSignal;
  resumed: boolean;
}): RunDir {
  const run = {
    ...options,
    writeJson: (name: string, value: unknown) =>
      atomicWriteFile(join(options.out, name), `${JSON.stringify(value, null, 2)}\n`),
    starting: <T>(start: () => Promise<T>): Promise<T> => start(),
    close: () => undefined,
  };
  return run as RunDir;
}
