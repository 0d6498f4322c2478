import type { RedisWrites } from "../core/redisWrites";
import { formatLogPosition } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import type { GenerationKeys } from "./keys";
import { EventFailure } from "./parked";
import { SegmentMisroutedError } from "./segmentedProjection";
import type { ChangeNotification, DocumentProjection, IndexEntry } from "./types";

/** What a batch does to a projection's documents, computed before anything is written. */
export interface Plan<Doc> {
  /** Documents whose content changed. */
  ids: string[];
  after: Map<string, Doc | null>;
  /** Index memberships of each changed document that still exists. */
  indexes: Map<string, IndexEntry[]>;
  /** JSON of each changed document that still exists: serialised once, to check it and then to write it. */
  json: Map<string, string>;
  notifications: Array<{ topic: string; message: ChangeNotification<Doc> }>;
}

/**
 * Runs the projection's code (documentIds, evolve, topics, indexes) over the
 * events, leaving out `skip`. Pure: nothing is written. When the code throws,
 * EventFailure names the event it failed on, so that event alone can be retried
 * or parked.
 */
export function planBatch<Doc>(
  projection: DocumentProjection<Doc>,
  relevant: readonly RecordedEvent[],
  before: ReadonlyMap<string, Doc | null>,
  skip: ReadonlySet<string>,
): Plan<Doc> {
  // Nothing is staged per event: a failure throws the whole plan away, and the caller plans again from `before`.
  // Allocation per event is what bounds a rebuild (GC), so the loop keeps to the documents and notifications.
  const after = new Map(before);
  const notifications: Plan<Doc>["notifications"] = [];
  for (const event of relevant) {
    if (skip.has(event.eventId)) continue;
    try {
      for (const id of projection.documentIds(event)) {
        const doc = projection.evolve(after.get(id) ?? null, event, id);
        after.set(id, doc);
        if (projection.topics) for (const topic of projection.topics(id, doc, event)) notifications.push({ topic, message: notification(projection.name, id, doc, event) });
      }
    } catch (error) {
      // A misrouted document is the definition's fault for every such event, not this event's: never park it.
      if (error instanceof SegmentMisroutedError) throw error;
      throw new EventFailure(event, error);
    }
  }
  const ids = [...after.keys()].filter((id) => after.get(id) !== before.get(id));
  const indexes = new Map<string, IndexEntry[]>();
  const json = new Map<string, string>();
  for (const id of ids) {
    const doc = after.get(id) ?? null;
    try {
      if (doc !== null) {
        indexes.set(id, projection.indexes?.(doc) ?? []);
        json.set(id, JSON.stringify(doc));
      }
    } catch (error) {
      // Some event of the batch changed this document (that is why it is here), so there is one to blame.
      const culprit = firstFailing(projection, relevant, before, skip, id);
      if (!culprit) throw error;
      throw new EventFailure(culprit, error);
    }
  }
  return { ids, after, indexes, json, notifications };
}

/**
 * The event after which document `id` could not be indexed or serialised:
 * the batch folded again for that document alone, checking after each event
 * (only on failure, so the common path keeps no history per document).
 */
function firstFailing<Doc>(
  projection: DocumentProjection<Doc>,
  relevant: readonly RecordedEvent[],
  before: ReadonlyMap<string, Doc | null>,
  skip: ReadonlySet<string>,
  id: string,
): RecordedEvent | null {
  let doc: Doc | null = before.get(id) ?? null;
  let last: RecordedEvent | null = null;
  for (const event of relevant) {
    if (skip.has(event.eventId)) continue;
    const touched = projection.documentIds(event).filter((d) => d === id);
    if (touched.length === 0) continue;
    for (const _ of touched) doc = projection.evolve(doc, event, id);
    last = event;
    try {
      if (doc !== null) projection.indexes?.(doc);
      JSON.stringify(doc);
    } catch {
      return event;
    }
  }
  return last;
}

/** Stages the plan's document writes and index changes on `tx`. */
export function writePlan<Doc>(
  tx: RedisWrites,
  projection: DocumentProjection<Doc>,
  gen: GenerationKeys,
  before: ReadonlyMap<string, Doc | null>,
  plan: Plan<Doc>,
): void {
  for (const id of plan.ids) {
    const old = before.get(id) ?? null;
    const doc = plan.after.get(id) ?? null;
    if (doc === null) tx.del(gen.doc(id));
    else tx.set(gen.doc(id), plan.json.get(id) ?? JSON.stringify(doc));
    if (!projection.indexes) continue;
    const oldEntries = old ? indexesOf(projection, old) : [];
    const newEntries = plan.indexes.get(id) ?? [];
    for (const e of missingFrom(newEntries, oldEntries)) tx.zrem(gen.index(e.index), e.member);
    for (const e of missingFrom(oldEntries, newEntries)) tx.zadd(gen.index(e.index), e.member);
  }
}

/**
 * The entries of `these` that `others` lacks. A document usually has a handful of index entries, and a
 * scan of so few allocates nothing, where a Set of keys per document did; long lists still get the Set.
 */
function missingFrom(others: readonly IndexEntry[], these: readonly IndexEntry[]): IndexEntry[] {
  if (others.length * these.length <= 64) return these.filter((e) => !others.some((o) => o.index === e.index && o.member === e.member));
  const key = (e: IndexEntry) => `${e.index}\u0000${e.member}`;
  const present = new Set(others.map(key));
  return these.filter((e) => !present.has(key(e)));
}

/** Index entries of a stored document; none if today's code cannot compute them (it could when the document was written). */
function indexesOf<Doc>(projection: DocumentProjection<Doc>, doc: Doc): IndexEntry[] {
  try {
    return projection.indexes?.(doc) ?? [];
  } catch {
    return [];
  }
}

function notification<Doc>(projection: string, id: string, doc: Doc | null, event: RecordedEvent): ChangeNotification<Doc> {
  return {
    projection,
    id,
    document: doc,
    eventType: event.type,
    eventId: event.eventId,
    streamVersion: event.streamVersion,
    position: formatLogPosition(event.position),
  };
}
