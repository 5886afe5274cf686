/**
 * Exit codes of the CLI, the one source (docs/cli.md repeats the table): 2 bad usage/input, 3 data, 4 backend,
 * 5 checkpoint, 6 download, 7 plugin, 8 non-finite training (NaN/Inf loss or weights), 9 file system (full or
 * read-only disk, permissions, a file where a folder belongs or the reverse), 10 a grid finished with failed cells
 * (the others ran and the report was written), 130 interrupted.
 */
export const EXIT_CODES: Readonly<Record<string, number>> = {
  'invalid-argument': 2,
  usage: 2,
  'data-format': 3,
  'backend-unavailable': 4,
  checkpoint: 5,
  download: 6,
  plugin: 7,
  'non-finite': 8,
  'file-system': 9,
  'grid-cells-failed': 10,
  aborted: 130,
};

/** What the system error codes of a failed file operation mean (they exit with the `file-system` code). */
const FILE_SYSTEM_ERRNOS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder where a file was expected',
};

/** Maps an error to an exit code and a one-line cause for stderr. */
export function describeFailure(error: unknown): { code: number; message: string } {
  // identified by MocoRobustError's Symbol.for marker, not by importing core: help and usage errors never load tfjs
  const marked =
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[Symbol.for('@moco-robust/error')] === true;
  if (marked) {
    const { code, message } = error as { code: string; message: string };
    return { code: EXIT_CODES[code] ?? 1, message: message.split('\n')[0] };
  }
  // a file-system failure that no library wrapped still names its path and cause
  const system = error as { code?: unknown; path?: unknown } | null;
  if (typeof system?.code === 'string' && system.code in FILE_SYSTEM_ERRNOS) {
    const path = typeof system.path === 'string' ? system.path : '(path unknown)';
    return { code: EXIT_CODES['file-system'], message: `${path}: ${FILE_SYSTEM_ERRNOS[system.code]} (${system.code})` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 1, message: `unexpected error: ${message.split('\n')[0]}` };
}
