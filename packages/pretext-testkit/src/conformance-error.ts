import { describeValue, MocoRobustError } from '@moco-robust/core';

/**
 * A conformance check of a pretext task failed: names the check (`checkPretextContract: loss`), what
 * was expected and what was got, and how to fix it when that is known.
 */
export class ConformanceError extends MocoRobustError {
  /** The check and the part of it that failed, e.g. `checkPretextContract: loss`. */
  readonly check: string;
  readonly expected: string;
  readonly received: string;

  constructor(options: { check: string; expected: string; received: unknown; hint?: string; cause?: unknown }) {
    const received = typeof options.received === 'string' ? options.received : describeValue(options.received);
    super(`${options.check}: expected ${options.expected}, got ${received}.${options.hint ? ` ${options.hint}` : ''}`, {
      code: 'conformance',
      cause: options.cause,
    });
    this.name = 'ConformanceError';
    this.check = options.check;
    this.expected = options.expected;
    this.received = received;
  }
}
