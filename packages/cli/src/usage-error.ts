// Imports nothing: flag parsing and `--help` must not load tfjs, and @moco-robust/core loads it on import. The
// Symbol.for marker makes a UsageError a MocoRobustError for `MocoRobustError.isInstance` and the CLI's exit codes.
const marker = Symbol.for('@moco-robust/error');

/** Bad command-line usage: unknown command or flag, bad value. Exit code 2. */
export class UsageError extends Error {
  readonly [marker] = true;
  /** The `MocoRobustError` code the CLI maps to exit code 2. */
  readonly code = 'usage';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
