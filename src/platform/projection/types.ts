import type { RecordedEvent } from "../eventstore/types";

/** One entry of a lexicographically sorted index (a Redis sorted set with equal scores). */
export interface IndexEntry {
  /** Index name, may carry a partition, e.g. `byCustomer:c-42`. */
  index: string;
  /** Sort key; must be unique within the index, so end it with the document id. */
  member: string;
}

/**
 * A read model made of JSON documents, each folded from the events that name it.
 * The same `evolve` serves the live projector, rebuilds and from-scratch checks,
 * so there is one definition of what a read model means.
 */
export interface DocumentProjection<Doc = unknown> {
  readonly name: string;
  /** Event types this projection reads; all others only move its checkpoint. `"all"` reads every event. */
  readonly eventTypes: readonly string[] | "all";
  /**
   * Keep an audit trail of each document in the history read model (see
   * platform/projection/historyProjection.ts): the events that changed it, from which its state at
   * any past point is folded with this same `evolve`.
   */
  readonly history?: boolean;
  /** The documents an event changes (usually one). */
  documentIds(event: RecordedEvent): string[];
  /** Next state of one document; null deletes it. Must be pure. */
  evolve(doc: Doc | null, event: RecordedEvent, id: string): Doc | null;
  /** Sorted-index memberships of a document; recomputed and diffed on every change. */
  indexes?(doc: Doc): IndexEntry[];
  /** Topics that hear about a change of this document (channel names without the prefix). */
  topics?(id: string, doc: Doc | null, event: RecordedEvent): string[];
  /**
   * Segments this projection runs as when PROJECTION_SEGMENTS does not say (default 1). More than
   * one needs `routing` (decision 0027).
   */
  readonly segments?: number;
  /**
   * How events and documents route to segments. Declaring it says the projection may be split:
   * every event touches only documents that route where the event does. A projection that
   * aggregates across documents (a dashboard) declares none and always runs as one segment.
   */
  readonly routing?: SegmentRouting;
}

export interface SegmentRouting {
  /** The key an event routes by; default its stream id (like Axon's sequencing policy). */
  event?(event: RecordedEvent): string;
  /** The key a document routes by; default its id. A query for one document reads only its segment. */
  document?(id: string): string;
}

export type { ChangeNotification } from "../subscriptions/topics";
