import { formatLogPosition, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { EventMetadata, RecordedEvent } from "../eventstore/types";
import { indexMember } from "./readModelStore";
import type { DocumentProjection, IndexEntry } from "./types";

/** One event as the history read model keeps it: everything the log has, plus the documents it changed. */
export interface HistoryRecord {
  eventId: string;
  streamId: string;
  streamVersion: number;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: EventMetadata;
  /** Commit-order log position token, as mutations return it. */
  position: string;
  recordedAt: string;
  /** The documents of history-keeping projections this event changes, e.g. `{ projection: "orders", id: "order-42" }`. */
  documents: Array<{ projection: string; id: string }>;
}

export const HISTORY = "history";

export const historyIndex = {
  /** Every event that changed one document of one projection, in commit order. */
  document: (projection: string, id: string) => `doc:${projection}:${id}`,
  /** Everything one request caused, across streams and services, in commit order. */
  correlation: (correlationId: string) => `correlation:${correlationId}`,
} as const;

/**
 * Sort key of a log position: both parts zero-padded to the width of their
 * largest value, so lexicographic order is commit order.
 */
export function positionSortKey(position: LogPosition): string {
  return `${position.transactionId.toString().padStart(20, "0")}.${position.globalPosition.toString().padStart(20, "0")}`;
}

/**
 * The history read model: every event of the log as a document, indexed by
 * correlation id and by each document it changed in the projections that keep
 * history. It is built from `sources` because only they know which documents
 * an event touches; adding a source later needs a rebuild for older events.
 */
export function historyProjection(sources: readonly DocumentProjection<unknown>[]): DocumentProjection<HistoryRecord> {
  const keeping = sources.filter((p) => p.history);
  const reads = (p: DocumentProjection<unknown>, type: string) => p.eventTypes === "all" || p.eventTypes.includes(type);
  return {
    name: HISTORY,
    eventTypes: "all",
    documentIds: (event) => [event.eventId],
    // Events are immutable and their ids unique: the first record of an event is the record.
    evolve: (doc, event) =>
      doc ?? {
        eventId: event.eventId,
        streamId: event.streamId,
        streamVersion: event.streamVersion,
        type: event.type,
        schemaVersion: event.schemaVersion,
        data: event.data,
        metadata: event.metadata,
        position: formatLogPosition(event.position),
        recordedAt: event.metadata.recordedAt,
        documents: keeping
          .filter((p) => reads(p, event.type))
          .flatMap((p) => p.documentIds(event).map((id) => ({ projection: p.name, id }))),
      },
    indexes(doc) {
      const key = indexMember(positionSortKey(parsePosition(doc.position)), doc.eventId);
      const entries: IndexEntry[] = doc.documents.map((d) => ({ index: historyIndex.document(d.projection, d.id), member: key }));
      if (doc.metadata.correlationId) entries.push({ index: historyIndex.correlation(doc.metadata.correlationId), member: key });
      return entries;
    },
  };
}

/** The event as the log recorded it, so a projection's `evolve` folds it exactly as the projector did. */
export function toRecordedEvent(record: HistoryRecord): RecordedEvent {
  const position = parsePosition(record.position);
  return {
    eventId: record.eventId,
    streamId: record.streamId,
    streamVersion: record.streamVersion,
    globalPosition: position.globalPosition,
    position,
    type: record.type,
    schemaVersion: record.schemaVersion,
    data: record.data,
    metadata: record.metadata,
  };
}

function parsePosition(token: string): LogPosition {
  const position = parseLogPosition(token);
  if (!position) throw new Error(`history record with a malformed position '${token}'`);
  return position;
}
