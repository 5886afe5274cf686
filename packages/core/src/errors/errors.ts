import { MocoRobustError } from './moco-robust-error';

/** Describes a received value briefly for error messages: `number 3`, `array of length 4`, `Tensor [2,3] float32`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'object') {
    const v = value as { shape?: unknown; dtype?: unknown };
    if (Array.isArray(v.shape) && typeof v.dtype === 'string') return `Tensor [${v.shape.join(',')}] ${v.dtype}`;
    return value.constructor?.name ?? 'object';
  }
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** An argument has the wrong type, shape or value: names the argument, what was expected and what was got. */
export class InvalidArgumentError extends MocoRobustError {
  readonly argument: string;
  readonly expected: string;
  readonly received: string;

  constructor(options: { argument: string; expected: string; received: unknown; cause?: unknown; hint?: string }) {
    const received = describeValue(options.received);
    super(
      `Invalid argument '${options.argument}': expected ${options.expected}, ` +
        `got ${received}.${options.hint ? ` ${options.hint}` : ''}`,
      {
        code: 'invalid-argument',
        cause: options.cause,
      },
    );
    this.name = 'InvalidArgumentError';
    this.argument = options.argument;
    this.expected = options.expected;
    this.received = received;
  }
}

/** A requested backend (or other optional dependency) cannot be loaded; says what to install. */
export class BackendUnavailableError extends MocoRobustError {
  readonly backend: string;
  constructor(options: { backend: string; message: string; cause?: unknown }) {
    super(options.message, { code: 'backend-unavailable', cause: options.cause });
    this.name = 'BackendUnavailableError';
    this.backend = options.backend;
  }
}

/**
 * A file (dataset, checkpoint, model) is missing, truncated or malformed; names the file and, when known, the byte
 * offset.
 */
export class DataFormatError extends MocoRobustError {
  readonly path: string;
  readonly offset: number | undefined;
  constructor(options: { path: string; message: string; offset?: number; cause?: unknown }) {
    super(`${options.path}${options.offset === undefined ? '' : ` (byte ${options.offset})`}: ${options.message}`, {
      code: 'data-format',
      cause: options.cause,
    });
    this.name = 'DataFormatError';
    this.path = options.path;
    this.offset = options.offset;
  }
}

/** A checkpoint or run directory cannot be read or written; what was there is left intact. */
export class CheckpointError extends MocoRobustError {
  readonly path: string;
  constructor(options: { path: string; message: string; cause?: unknown }) {
    super(`${options.path}: ${options.message}`, { code: 'checkpoint', cause: options.cause });
    this.name = 'CheckpointError';
    this.path = options.path;
  }
}

/** A download failed: network error, HTTP status or checksum mismatch. */
export class DownloadError extends MocoRobustError {
  readonly url: string;
  constructor(options: { url: string; message: string; cause?: unknown }) {
    super(`${options.url}: ${options.message}`, { code: 'download', cause: options.cause });
    this.name = 'DownloadError';
    this.url = options.url;
  }
}

/** A plugin (e.g. `@moco-robust/pretext-jigsaw`) is missing or does not implement the contract. */
export class PluginError extends MocoRobustError {
  readonly plugin: string;
  constructor(options: { plugin: string; message: string; cause?: unknown }) {
    super(options.message, { code: 'plugin', cause: options.cause });
    this.name = 'PluginError';
    this.plugin = options.plugin;
  }
}

/** Something is not available on this platform (e.g. file system access in a browser). */
export class UnsupportedEnvironmentError extends MocoRobustError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'unsupported-environment', cause: options.cause });
    this.name = 'UnsupportedEnvironmentError';
  }
}

/** A run was cancelled through an `AbortSignal`; the last checkpoint written is intact. */
export class AbortedError extends MocoRobustError {
  constructor(message = 'The operation was aborted.', options: { cause?: unknown } = {}) {
    super(message, { code: 'aborted', cause: options.cause });
    this.name = 'AbortedError';
  }
}

/** Training produced a NaN or infinite loss or weight; the last finite checkpoint is kept, nothing later is saved. */
export class NonFiniteError extends MocoRobustError {
  readonly step: number;
  readonly what: string;
  constructor(options: { step: number; what: string; checkpoint?: string; hint?: string }) {
    super(
      `${options.what} became non-finite (NaN or Infinity) at step ${options.step}; ` +
        (options.checkpoint ? `the last finite checkpoint is ${options.checkpoint}` : 'no checkpoint was written') +
        `.${options.hint ? ` ${options.hint}` : ''}`,
      { code: 'non-finite' },
    );
    this.name = 'NonFiniteError';
    this.step = options.step;
    this.what = options.what;
  }
}

const FILE_SYSTEM_CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder where a file was expected',
};

/** Reading or writing a path failed for a file-system reason (full or read-only disk, permissions, file vs folder). */
export class FileSystemError extends MocoRobustError {
  readonly path: string;
  /** The system error code, e.g. `ENOSPC`. */
  readonly errno: string;
  constructor(options: { path: string; errno: string; action?: string; cause?: unknown }) {
    const reason = FILE_SYSTEM_CAUSES[options.errno] ?? options.errno;
    super(`${options.path}: cannot ${options.action ?? 'write'}: ${reason} (${options.errno})`, {
      code: 'file-system',
      cause: options.cause,
    });
    this.name = 'FileSystemError';
    this.path = options.path;
    this.errno = options.errno;
  }

  /**
   * The {@link FileSystemError} of a Node system error whose code is a file-system failure (ENOSPC, EDQUOT, EROFS,
   * EACCES, EPERM, ENOTDIR, EISDIR), naming `path` (default: the error's own path); a `FileSystemError` as it is;
   * otherwise undefined.
   */
  static from(error: unknown, path?: string, action?: string): FileSystemError | undefined {
    if (MocoRobustError.isInstance(error) && error.code === 'file-system') return error as FileSystemError;
    const e = error as { code?: unknown; path?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || !(e.code in FILE_SYSTEM_CAUSES))
      return undefined;
    const where = path ?? (typeof e.path === 'string' ? e.path : '(unknown path)');
    return new FileSystemError({ path: where, errno: e.code, action, cause: error });
  }
}
