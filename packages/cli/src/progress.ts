import { appendFileSync } from 'node:fs';
import type { BackendSelectedEvent, BackendSelection, NativeBuildEvent } from '@moco-robust/core';
import type { CliEvent } from './events';
import type { GridEvent } from './grid/run-grid';
import type { WorkerEvent } from './queue/run-worker';

/** Where the renderer draws: stderr, or anything with its few members (a test's buffer). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Renders library events: a progress bar with ETA on a terminal (stderr), throttled plain lines otherwise; every event
 * goes to the JSONL log.
 */
export class ProgressRenderer {
  private readonly tty: boolean;
  private lastDraw = 0;
  private phaseStart = performance.now();
  private phase = '';
  private open = false;

  constructor(
    private readonly options: {
      logFile?: string;
      stream?: ProgressStream;
      quiet?: boolean;
      plainEverySeconds?: number;
    } = {},
  ) {
    const stream = options.stream ?? process.stderr;
    this.tty = Boolean(stream.isTTY) && !process.env.CI;
  }

  /** Starts a named phase (`pre-training`, `fine-tuning`, `evaluation`). */
  startPhase(name: string): void {
    this.finishLine();
    this.phase = name;
    this.phaseStart = performance.now();
    this.line(`▶ ${name}`);
  }

  /** The event listener to pass to library calls (every {@link CliEvent}; each goes to the JSONL log). */
  readonly listener = (event: CliEvent): void => {
    if (this.options.logFile)
      appendFileSync(
        this.options.logFile,
        `${JSON.stringify({ time: new Date().toISOString(), phase: this.phase, ...event })}\n`,
      );
    if (this.options.quiet) return;
    switch (event.type) {
      case 'step-end':
        this.progress(
          event.step,
          event.totalSteps,
          `loss ${event.loss.toFixed(4)} · lr ${event.learningRate.toFixed(4)} ` +
            `· ${Math.round(event.imagesPerSecond)} img/s`,
        );
        break;
      case 'eval-progress':
        this.progress(event.done, event.total, event.attack);
        break;
      case 'corruption-eval':
        this.progress(
          event.done,
          event.total ?? NaN,
          `${event.corruption} s${event.severity} ${(100 * event.accuracy).toFixed(1)}%`,
        );
        break;
      case 'download-progress':
        this.progress(Math.round(event.bytes / 1e6), event.totalBytes ? Math.round(event.totalBytes / 1e6) : NaN, 'MB');
        break;
      case 'download-start':
        if (event.resumeFrom > 0) this.line(`resuming ${event.url} from byte ${event.resumeFrom}`);
        break;
      case 'epoch-end': {
        const parts = [`epoch ${event.epoch + 1}`, `loss ${event.loss.toFixed(4)}`];
        if ('knnAccuracy' in event && event.knnAccuracy !== undefined)
          parts.push(`kNN ${(100 * event.knnAccuracy).toFixed(1)}%`);
        const validation = 'validation' in event ? event.validation : undefined;
        if (validation)
          parts.push(
            `val clean ${(100 * validation.clean).toFixed(1)}%` +
              (validation.robust === undefined ? '' : ` robust ${(100 * validation.robust).toFixed(1)}%`),
          );
        this.finishLine();
        this.line(`  ${parts.join(' · ')}`);
        break;
      }
      case 'checkpoint':
        if (event.reason === 'abort' || event.reason === 'final') {
          this.finishLine();
          this.line(`  checkpoint (${event.reason}): ${event.location}`);
        }
        break;
      case 'warning':
        if ('worker' in event) this.line(describeCellEvent(event));
        else {
          this.finishLine();
          this.line(`  warning: ${event.message}`);
        }
        break;
      case 'backend-selected':
      case 'native-build-phase':
        this.finishLine();
        this.line(`  ${describe(event)}`);
        break;
      case 'worker-ready':
      case 'cell-start':
      case 'cell-skip':
      case 'cell-end':
      case 'cell-failed':
      case 'cell-busy':
      case 'cell-stopped':
        this.line(describeCellEvent(event));
        break;
      // logged only: the phase lines, epoch lines and results say the same
      case 'pretrain-start':
      case 'pretrain-end':
      case 'finetune-start':
      case 'finetune-end':
      case 'corruption-skipped':
      case 'corruption-end':
      case 'corruption-workers-started':
      case 'corruption-workers-stopped':
      case 'download-end':
      case 'frost-textures-ready':
        break;
      default:
        // a new CliEvent member does not compile until it is rendered or listed above as logged only
        event satisfies never;
    }
  };

  /** Ends the current progress line. */
  finishLine(): void {
    if (this.open) (this.options.stream ?? process.stderr).write('\n');
    this.open = false;
  }

  /** Writes a whole line to stderr. */
  line(text: string): void {
    if (!this.options.quiet) (this.options.stream ?? process.stderr).write(`${text}\n`);
  }

  private progress(done: number, total: number, detail: string): void {
    const now = performance.now();
    const final = done >= total;
    const every = this.tty ? 100 : 1000 * (this.options.plainEverySeconds ?? 10);
    if (!final && now - this.lastDraw < every) return;
    this.lastDraw = now;
    const elapsed = (now - this.phaseStart) / 1000;
    const eta = done > 0 ? (elapsed * (total - done)) / done : NaN;
    const stream = this.options.stream ?? process.stderr;
    if (this.tty) {
      const width = 28;
      const filled = Number.isFinite(total) ? Math.min(width, Math.round((width * done) / Math.max(1, total))) : 0;
      const text =
        `  ${this.phase.split(' (')[0]} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ` +
        `${done}/${total} · ${detail} · ${clock(elapsed)} elapsed · ETA ${clock(eta)}`;
      // never wider than the terminal: a wrapped line cannot be redrawn in place with \r
      const columns = stream.columns ?? 0;
      stream.write(`\r${columns > 10 && text.length >= columns ? `${text.slice(0, columns - 2)}…` : text}\x1b[K`);
      this.open = true;
      if (final) this.finishLine();
    } else {
      stream.write(
        `  ${this.phase.split(' (')[0]} ` +
          `${done}/${Number.isFinite(total) ? `${total} (${Math.round((100 * done) / Math.max(1, total))}%)` : '?'} ` +
          `· ${detail} · ETA ${clock(eta)}\n`,
      );
    }
  }
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h > 0 ? `${h}:` : ''}${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** What a selection adds to the backend's name: wasm's threads, the native backend's convolutions. */
export function selectionDetails(selection: BackendSelection): string {
  const threads =
    selection.threads !== undefined ? `, ${selection.threads} thread${selection.threads === 1 ? '' : 's'}` : '';
  return `${threads}${selection.convolution !== undefined ? `, convolutions: ${selection.convolution}` : ''}`;
}

function describe(event: BackendSelectedEvent | NativeBuildEvent): string {
  if (event.type === 'native-build-phase') return `${event.phase}: ${event.detail}`;
  const { selection } = event;
  const failed = selection.attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
  const skipped = failed.length ? ` (skipped ${failed.join('; ')})` : '';
  return `backend: ${selection.name}${selectionDetails(selection)}${skipped}`;
}

/** A line for a grid cell (`[2/8] cell: …`) or a worker (`cell: …`) event. */
function describeCellEvent(event: GridEvent | WorkerEvent): string {
  if (!('worker' in event)) {
    const at = `[${event.index + 1}/${event.total}] ${event.cell}`;
    switch (event.type) {
      case 'cell-start':
        return `${at}: ${event.resuming ? `resuming (attempt ${event.attempt})` : 'starting'}`;
      case 'cell-skip':
        return `${at}: skipped (${event.reason === 'done' ? 'done' : 'failed earlier; --retry-failed reruns it'})`;
      case 'cell-end':
        return `${at}: done in ${event.seconds.toFixed(1)} s`;
      case 'cell-failed':
        return `${at}: FAILED — ${event.error}`;
    }
  }
  switch (event.type) {
    case 'worker-ready':
      return `worker ${event.worker}: ready (backend ${event.backend}, moco-robust ${event.version})`;
    case 'cell-start':
      return `${event.cell}: ${event.resuming ? `resuming (attempt ${event.attempt})` : 'starting'} (${event.grid})`;
    case 'cell-end':
      return `${event.cell}: done in ${event.seconds.toFixed(1)} s`;
    case 'cell-failed':
      return `${event.cell}: FAILED — ${event.error}`;
    case 'cell-busy':
      return `${event.cell}: leased by ${event.holder} until ${event.until}; retried after it`;
    case 'cell-stopped':
      return `${event.cell}: stopped (${event.reason}); checkpoint kept, job back on the queue`;
    case 'warning':
      return `warning: ${event.message}`;
  }
}
