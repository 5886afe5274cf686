/**
 * Exit codes of the CLI, one place: 2 bad usage/input, 3 data, 4 backend, 5 checkpoint, 6 download, 7 plugin, 130
 * interrupted.
 */
const CODES: Record<string, number> = {
  'invalid-argument': 2,
  usage: 2,
  'data-format': 3,
  'backend-unavailable': 4,
  checkpoint: 5,
  download: 6,
  plugin: 7,
  aborted: 130,
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
    return { code: CODES[code] ?? 1, message: message.split('\n')[0] };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 1, message: `unexpected error: ${message.split('\n')[0]}` };
}
