import { DownloadError, MocoRobustError } from '@moco-robust/core';

/**
 * A downloaded file is complete but its checksum is not the expected one: the file was renamed
 * `<path>.bad` and not used. A {@link DownloadError} (code `download`) with the two checksums.
 */
export class ChecksumError extends DownloadError {
  /** The final path the file was meant for (left as it was). */
  readonly path: string;
  /** Where the refused file was kept aside: `<path>.bad`. */
  readonly badPath: string;
  readonly algorithm: 'md5' | 'sha256';
  /** Hex digests. */
  readonly expected: string;
  readonly actual: string;

  constructor(options: { url: string; path: string; algorithm: 'md5' | 'sha256'; expected: string; actual: string }) {
    const badPath = `${options.path}.bad`;
    super({
      url: options.url,
      message:
        `checksum mismatch: expected ${options.algorithm} ${options.expected}, got ` +
        `${options.actual}; the file is kept aside as ${badPath} and was not used`,
    });
    this.name = 'ChecksumError';
    this.path = options.path;
    this.badPath = badPath;
    this.algorithm = options.algorithm;
    this.expected = options.expected;
    this.actual = options.actual;
  }

  /** True for this error, also one from another copy of this package (no `instanceof`). */
  static isChecksumError(error: unknown): error is ChecksumError {
    return MocoRobustError.isInstance(error) && error.name === 'ChecksumError';
  }
}
