import type { BackendSelectedEvent, NativeBuildEvent } from '@moco-robust/core';
import type { CorruptImagesParallelEvent, FetchFrostTexturesEvent } from '@moco-robust/data';
import type { CorruptionEvalEvent, EvaluateEvent, FinetuneEvent } from '@moco-robust/eval';
import type { PretrainEvent } from '@moco-robust/moco';
import type { GridEvent } from './grid/run-grid';
import type { WorkerEvent } from './queue/run-worker';

/**
 * Every event the CLI renders or writes to a run's `events.jsonl`: the union of the libraries' own event types (each a
 * discriminated union on `type`) and the CLI's grid and worker events. {@link ProgressRenderer}'s listener switches on
 * `type` exhaustively, so a new member does not compile until it is rendered or explicitly ignored there.
 *
 * `step-end`, `checkpoint` and `warning` are core's `TrainingLoopEvent`s (inside `PretrainEvent` and `FinetuneEvent`);
 * `download-*` are data's `DownloadEvent`s (inside `FetchFrostTexturesEvent`); `corruption-*` are data's
 * `CorruptImagesEvent`s (inside `CorruptImagesParallelEvent`).
 */
export type CliEvent =
  | BackendSelectedEvent
  | NativeBuildEvent
  | PretrainEvent
  | FinetuneEvent
  | EvaluateEvent
  | CorruptionEvalEvent
  | CorruptImagesParallelEvent
  | FetchFrostTexturesEvent
  | GridEvent
  | WorkerEvent;

/** The `type`s of {@link CliEvent}. */
export type CliEventType = CliEvent['type'];
