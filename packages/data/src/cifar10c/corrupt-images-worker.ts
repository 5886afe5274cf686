// Worker-thread entry of corruptImagesParallel (built as dist/corrupt-images-worker.js): runs
// corruptImages on its slice and posts each block (with its first image's index in the slice), at most `window`
// blocks ahead of the acknowledgements, so a slow consumer does not pile blocks up in memory.
import { parentPort, workerData } from 'node:worker_threads';
import { corruptImages } from './registry';
import type { CorruptImagesOptions } from './registry';

/** What the main thread hands a worker. */
export interface CorruptImagesWorkerData {
  images: Uint8Array;
  count: number;
  options: Omit<CorruptImagesOptions, 'onEvent'>;
  window: number;
}

/** Messages a worker posts. */
export type CorruptImagesWorkerMessage =
  | { type: 'block'; images: Uint8Array; firstImage: number }
  | { type: 'done' }
  | { type: 'error'; name: string; message: string; code: string | undefined; stack: string | undefined };

const port = parentPort!;
const { images, count, options, window } = workerData as CorruptImagesWorkerData;
let credits = window;
let wake: (() => void) | undefined;
const onAcknowledge = () => {
  credits++;
  wake?.();
};
port.on('message', onAcknowledge);

try {
  const blocks = corruptImages(images, count, options);
  for (;;) {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    const next = blocks.next();
    if (next.done) break;
    credits--;
    const message: CorruptImagesWorkerMessage = {
      type: 'block',
      images: next.value.images,
      firstImage: next.value.firstImage,
    };
    port.postMessage(message, [next.value.images.buffer as ArrayBuffer]);
  }
  port.postMessage({ type: 'done' } satisfies CorruptImagesWorkerMessage);
} catch (error) {
  const e = error as { name?: string; message?: string; code?: unknown; stack?: string };
  port.postMessage({
    type: 'error',
    name: String(e?.name ?? 'Error'),
    message: String(e?.message ?? error),
    code: typeof e?.code === 'string' ? e.code : undefined,
    stack: e?.stack,
  } satisfies CorruptImagesWorkerMessage);
}
port.off('message', onAcknowledge);
