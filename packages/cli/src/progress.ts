import { appendFileSync } from 'node:fs';
import type { MocoRobustEvent } from '@moco-robust/core';

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
      stream?: NodeJS.WriteStream;
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

  /** The event listener to pass to library calls. */
  readonly listener = (event: MocoRobustEvent): void => {
    if (this.options.logFile)
      appendFileSync(
        this.options.logFile,
        `${JSON.stringify({ time: new Date().toISOString(), phase: this.phase, ...event })}\n`,
      );
    if (this.options.quiet) return;
    switch (event.type) {
      case 'step-end':
        this.progress(
          event.step as number,
          event.totalSteps as number,
          `loss ${(event.loss as number).toFixed(4)} · lr ${(event.learningRate as number).toFixed(4)} ` +
            `· ${Math.round(event.imagesPerSecond as number)} img/s`,
        );
        break;
      case 'eval-progress':
        this.progress(event.done as number, event.total as number, String(event.attack));
        break;
      case 'corruption-eval':
        this.progress(
          event.done as number,
          (event.total as number | undefined) ?? NaN,
          `${String(event.corruption)} s${String(event.severity)} ${(100 * (event.accuracy as number)).toFixed(1)}%`,
        );
        break;
      case 'epoch-end': {
        const parts = [`epoch ${(event.epoch as number) + 1}`, `loss ${(event.loss as number).toFixed(4)}`];
        if (typeof event.knnAccuracy === 'number') parts.push(`kNN ${(100 * event.knnAccuracy).toFixed(1)}%`);
        const validation = event.validation as { clean: number; robust?: number } | undefined;
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
          this.line(`  checkpoint (${String(event.reason)}): ${String(event.location)}`);
        }
        break;
      case 'warning':
        this.finishLine();
        this.line(`  warning: ${String(event.message)}`);
        break;
      case 'backend-selected':
      case 'native-build-phase':
        this.finishLine();
        this.line(`  ${describe(event)}`);
        break;
      default:
        break;
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
      const columns = (stream as NodeJS.WriteStream).columns ?? 0;
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

function describe(event: MocoRobustEvent): string {
  if (event.type === 'backend-selected') {
    const selection = event.selection as {
      name: string;
      threads?: number;
      attempts: Array<{ name: string; ok: boolean; reason?: string }>;
    };
    const failed = selection.attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
    const threads =
      selection.threads !== undefined ? `, ${selection.threads} thread${selection.threads === 1 ? '' : 's'}` : '';
    return `backend: ${selection.name}${threads}${failed.length ? ` (skipped ${failed.join('; ')})` : ''}`;
  }
  return `${String(event.phase)}: ${String(event.detail)}`;
}
