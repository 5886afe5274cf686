import { MocoRobustError } from '@moco-robust/core';

/**
 * The frost textures (frost1–5) that the `frost` corruption blends in are missing or incomplete;
 * callers that generate many corruptions skip frost on this error (code `missing-frost-textures`).
 */
export class MissingFrostTexturesError extends MocoRobustError {
  /** Where the textures were looked for, when a folder was given. */
  readonly path: string | undefined;

  constructor(options: { message: string; path?: string; cause?: unknown }) {
    super(`${options.path === undefined ? '' : `${options.path}: `}${options.message}`, {
      code: 'missing-frost-textures',
      cause: options.cause,
    });
    this.name = 'MissingFrostTexturesError';
    this.path = options.path;
  }

  /** True for this error, also one from another copy of this package (no `instanceof`). */
  static isMissingFrostTextures(error: unknown): error is MissingFrostTexturesError {
    return MocoRobustError.isInstance(error) && error.code === 'missing-frost-textures';
  }
}
