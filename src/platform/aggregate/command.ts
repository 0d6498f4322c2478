import type { LogPosition } from "../eventstore/logPosition";
import type { DomainEvent } from "../eventstore/types";

/** Who sent a command and why; copied into every event it produces. */
export interface CommandContext {
  /** The idempotency key: for a client's command, its commandId scoped to the actor (see idempotency.ts). */
  commandId: string;
  /** The commandId as the client sent it, shown back in replies, logs and event metadata; absent for internal commands. */
  clientCommandId?: string;
  correlationId?: string;
  causationId?: string;
  actor: string;
  /** Hash of the command as its sender stated it; absent: the command's own (see idempotency.ts). */
  fingerprint?: string;
}

export interface CommandOutcome<Event extends DomainEvent = DomainEvent> {
  commandId: string;
  streamId: string;
  streamVersion: number;
  /** Position of the last event written, or null when the command changed nothing. */
  position: LogPosition | null;
  /** The events this call appended (empty for a duplicate or a no-op). */
  events: Event[];
  /** Types of the events the command produced, also for a duplicate: what its first run appended. */
  eventTypes: string[];
  /** True when the command had already been applied: nothing was appended this time. */
  duplicate: boolean;
}
