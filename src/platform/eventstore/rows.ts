import { randomUUID } from "node:crypto";
import type { QueryResultRow } from "pg";
import type { EventRegistry } from "./eventRegistry";
import type { AppendResult, NewEvent, RecordedEvent } from "./types";

/** Rows as PostgreSQL returns them, and what the store makes of them. */

export interface EventRow extends QueryResultRow {
  event_id: string;
  stream_id: string;
  stream_version: number;
  global_position: string;
  transaction_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: RecordedEvent["metadata"];
}

interface StoredCommandResult {
  streamVersion: number;
  globalPosition: string;
  transactionId: string;
  eventTypes?: string[];
}

/** A command applied earlier: where its events landed, which they were, and who sent what (null before migration 5). */
export interface CommandRecord extends AppendResult {
  eventTypes: string[];
  actor: string | null;
  fingerprint: string | null;
}

export function toCommandRecord(row: QueryResultRow): CommandRecord {
  const result = row.result as StoredCommandResult;
  return {
    streamId: row.stream_id as string,
    streamVersion: result.streamVersion,
    globalPosition: BigInt(result.globalPosition),
    position: { transactionId: BigInt(result.transactionId), globalPosition: BigInt(result.globalPosition) },
    eventTypes: result.eventTypes ?? [],
    actor: (row.actor as string | null) ?? null,
    fingerprint: (row.fingerprint as string | null) ?? null,
  };
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  const globalPosition = BigInt(row.global_position);
  return {
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    globalPosition,
    position: { transactionId: BigInt(row.transaction_id), globalPosition },
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
  };
}

/** The columns of an append's events, as the statement's arrays; each event checked against its schema first. */
export function eventParams(registry: EventRegistry | undefined, events: readonly NewEvent[]): unknown[] {
  // Checked before anything is sent: an invalid event is a bug in its producer and must never reach the log.
  const versions = registry ? events.map((e) => registry.validate(e.type, e.schemaVersion, e.data)) : events.map((e) => e.schemaVersion ?? 1);
  const recordedAt = new Date().toISOString();
  return [
    events.map((e) => e.eventId ?? randomUUID()),
    events.map((e) => e.type),
    versions,
    events.map((e) => JSON.stringify(e.data)),
    events.map((e) => JSON.stringify({ ...e.metadata, recordedAt: e.metadata.recordedAt ?? recordedAt })),
  ];
}
