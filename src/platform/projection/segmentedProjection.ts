import { DomainError, ErrorCode } from "../core/errors";
import { formatLogPosition } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import { segmentOf } from "./segmentOf";
import type { DocumentProjection } from "./types";

/**
 * What a segment is stored and processed as: `orders#2` for segment 2 of a
 * projection with more than one, the projection's own name when it has one.
 * The name gives the segment its own keys (one hash tag on a Redis Cluster:
 * `{orders#2}`), checkpoint, status, rebuild lock, change log and wake-ups,
 * so every part of the projector handles a segment as a projection.
 */
export function segmentName(projection: string, segment: number, segments: number): string {
  return segments === 1 ? projection : `${projection}#${segment}`;
}

export class SegmentMisroutedError extends DomainError<"SEGMENT_MISROUTED"> {
  constructor(projection: string, id: string, segment: number, documentSegment: number, event: RecordedEvent) {
    super(
      ErrorCode.SEGMENT_MISROUTED,
      `Segment ${segment} of projection '${projection}' applied event ${event.eventId} (${event.type} at ${formatLogPosition(event.position)}) ` +
        `to document '${id}', which routes to segment ${documentSegment}: the projection's routing must send an event where its documents live`,
      { projection, id, segment, documentSegment, eventId: event.eventId },
    );
  }
}

/** The routing key of an event and of a document, with the defaults filled in. */
export function routingOf(definition: DocumentProjection<unknown>): { event: (e: RecordedEvent) => string; document: (id: string) => string } {
  const routing = definition.routing;
  return {
    event: routing?.event ? (e) => routing.event!(e) : (e) => e.streamId,
    document: routing?.document ? (id) => routing.document!(id) : (id) => id,
  };
}

/**
 * Segment `segment` of `segments` of a projection: the same documents,
 * indexes and topics, folded only from the events that route to it. The
 * others name no document, so they only move the segment's checkpoint. A
 * document that does not route here is refused (SEGMENT_MISROUTED) before
 * anything is written, so a projection can never split one document across
 * segments.
 */
export function projectionSegment<Doc>(definition: DocumentProjection<Doc>, segment: number, segments: number): DocumentProjection<Doc> {
  if (segments === 1) return definition;
  const route = routingOf(definition);
  const indexes = definition.indexes;
  const topics = definition.topics;
  return {
    name: segmentName(definition.name, segment, segments),
    eventTypes: definition.eventTypes,
    history: definition.history,
    routing: definition.routing,
    segments,
    documentIds(event) {
      if (segmentOf(route.event(event), segments) !== segment) return [];
      const ids = definition.documentIds(event);
      for (const id of ids) {
        const home = segmentOf(route.document(id), segments);
        if (home !== segment) throw new SegmentMisroutedError(definition.name, id, segment, home, event);
      }
      return ids;
    },
    evolve: (doc, event, id) => definition.evolve(doc, event, id),
    ...(indexes ? { indexes: (doc: Doc) => indexes(doc) } : {}),
    ...(topics ? { topics: (id: string, doc: Doc | null, event: RecordedEvent) => topics(id, doc, event) } : {}),
  };
}
