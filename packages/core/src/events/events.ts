/**
 * The shape every library event has: a literal `type` naming it. Each library exports the discriminated union of the
 * events it emits (`TrainingLoopEvent`, `BackendSelectedEvent`, `PretrainEvent`, …); this is only their constraint.
 * The CLI's `CliEvent` is the union of those it renders, which its renderer switches on.
 */
export interface MocoRobustEvent {
  type: string;
  [key: string]: unknown;
}

/** A callback that receives events; libraries never print, they call this. */
export type EventListener<E extends MocoRobustEvent = MocoRobustEvent> = (event: E) => void;

/** Calls `listener` if given; a listener that throws does not break the computation that emitted. */
export function emit<E extends MocoRobustEvent>(listener: EventListener<E> | undefined, event: E): void {
  if (!listener) return;
  try {
    listener(event);
  } catch {
    // A broken renderer must never kill a training run.
  }
}

/** Combines several listeners into one (undefined entries are skipped). */
export function fanOut<E extends MocoRobustEvent>(...listeners: Array<EventListener<E> | undefined>): EventListener<E> {
  const active = listeners.filter((l): l is EventListener<E> => l !== undefined);
  return (event) => {
    for (const l of active) emit(l, event);
  };
}
