import type { LogPosition } from "./logPosition";

export type ExpectedVersion = number | "no_stream" | "any";

/** Who and what caused an event; stored with it for audit and tracing. */
export interface EventMetadata {
  correlationId: string;
  causationId: string;
  commandId?: string;
  actor: string;
  recordedAt: string;
  [extra: string]: unknown;
}

/** An event as a decider emits it: a fact with a type and a payload. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

export interface NewEvent extends DomainEvent {
  eventId?: string;
  schemaVersion?: number;
  metadata: Omit<EventMetadata, "recordedAt"> & { recordedAt?: string };
}

export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  eventId: string;
  streamId: string;
  streamVersion: number;
  globalPosition: bigint;
  /** Commit-order position: (transaction id, global position). */
  position: LogPosition;
  type: E["type"];
  schemaVersion: number;
  data: E["data"];
  metadata: EventMetadata;
}

export interface AppendResult {
  streamId: string;
  /** Version of the stream after the append (its last event's version). */
  streamVersion: number;
  /** Global position of the last appended event. */
  globalPosition: bigint;
  /** Commit-order position of the last appended event; use it to wait for read models. */
  position: LogPosition;
}

export interface StreamRange {
  fromVersion?: number;
  toVersion?: number;
}

export interface ReadAllResult {
  events: RecordedEvent[];
  /** Where the next read starts; equals the input when nothing new was committed. */
  checkpoint: LogPosition;
}
