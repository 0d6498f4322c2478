import type { LogPosition } from "../eventstore/logPosition";
import type { DomainEvent, RecordedEvent } from "../eventstore/types";

/** The event types a processor handles, from its events' union (`EventsOf<typeof schemas>`), or every event. */
export type HandledTypes<E extends DomainEvent> = readonly E["type"][] | "all";

/** An event the processor kept failing on, left out so the log keeps moving. */
export interface ParkedNote {
  eventId: string;
  error: string;
}

export type StepResult =
  /**
   * `events`: the batch read; `handled`: those of the processor's own types (parked ones included), the
   * rest being passed over. Only `handled` says the processor has work coming (its polls stay fast).
   * `parked`: events of the batch the handler kept failing on, parked and passed.
   * `atHead`: the read found fewer events than it asked for, so it reached the log's visible head; a
   * drain stops there instead of reading again to find nothing (what is appended later wakes it again).
   */
  | { kind: "applied"; events: number; handled: number; checkpoint: LogPosition; parked: ParkedNote[]; atHead?: boolean }
  | { kind: "idle"; checkpoint: LogPosition }
  /**
   * Another runner moved the checkpoint (or the active generation) first; nothing was committed.
   * `fenced`: refused because a newer lease owner committed (this runner lost its lease).
   */
  | { kind: "superseded"; fenced?: true }
  /** This replica does not own the unit's lease (processing/leasedStep.ts): nothing was read. */
  | { kind: "standby" };

/**
 * One batch of a processor: read after its checkpoint, handle, commit the
 * checkpoint. Every kind of checkpoint (Redis with the read-model writes,
 * PostgreSQL after the effects) implements it; the driver (LogProcessor)
 * runs it on wake-ups, retries it and reports it, the same way for all.
 */
export interface ProcessorStep {
  readonly name: string;
  step(): Promise<StepResult>;
}

/** Narrows the log to the types a processor handles. */
export function handles<E extends DomainEvent>(types: HandledTypes<E>): (event: RecordedEvent) => event is RecordedEvent<E> {
  if (types === "all") return (_event): _event is RecordedEvent<E> => true;
  const wanted: ReadonlySet<string> = new Set(types);
  return (event): event is RecordedEvent<E> => wanted.has(event.type);
}

/**
 * What processors log through (a pino Logger fits). Declared here so that
 * processing/ depends on no observability code, which reads its checkpoints.
 */
export interface ProcessorLog {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
