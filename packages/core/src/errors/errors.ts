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
