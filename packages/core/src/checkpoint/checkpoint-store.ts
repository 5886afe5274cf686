/** What a checkpoint holds: relative path → content. */
export type CheckpointFiles = Record<string, Uint8Array | string>;

/** A checkpoint read back: its step, metadata and a reader for its files. */
export interface StoredCheckpoint {
  /** Where it lives (a directory in Node). */
  location: string;
  step: number;
  meta: Record<string, unknown>;
  /** What the store noticed while finding it (a damaged `latest`, files left by an interrupted write). */
  warnings?: string[];
  read(path: string): Promise<Uint8Array>;
  readText(path: string): Promise<string>;
}

/**
 * Where training loops save and find checkpoints. `fileCheckpointStore(runDir)` (Node) writes
 * `<run>/checkpoints/<step>/` atomically; tests and browsers can use {@link memoryCheckpointStore}.
 */
export interface CheckpointStore {
  /** Writes the checkpoint of `step`; `keep`: how many of the newest checkpoints to keep (the store's default). */
  write(
    step: number,
    files: CheckpointFiles,
    meta?: Record<string, unknown>,
    options?: { keep?: number },
  ): Promise<string>;
  latest(): Promise<StoredCheckpoint | undefined>;
}

/** An in-memory {@link CheckpointStore} (browser runs, tests). Keeps only the newest checkpoint. */
export function memoryCheckpointStore(): CheckpointStore {
  let stored: { step: number; files: Record<string, Uint8Array>; meta: Record<string, unknown> } | undefined;
  const encoder = new TextEncoder();
  return {
    async write(step, files, meta = {}) {
      stored = {
        step,
        meta,
        files: Object.fromEntries(
          Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? encoder.encode(v) : v.slice()]),
        ),
      };
      return `memory:${step}`;
    },
    async latest() {
      if (!stored) return undefined;
      const snapshot = stored;
      const read = async (path: string) => {
        const file = snapshot.files[path];
        if (!file) throw new Error(`memory checkpoint ${snapshot.step} has no file ${path}`);
        return file;
      };
      return {
        location: `memory:${snapshot.step}`,
        step: snapshot.step,
        meta: snapshot.meta,
        read,
        readText: async (p) => new TextDecoder().decode(await read(p)),
      };
    },
  };
}
