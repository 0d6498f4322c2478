import type { ChainableCommander } from "ioredis";
import { formatLogPosition } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import type { GenerationKeys } from "./keys";
import { EventFailure } from "./parked";
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
  const after = new Map(before);
  /** Each document's states through the batch, to find which event a failing `indexes` is due to. */
  const history = new Map<string, Array<{ event: RecordedEvent; doc: Doc | null }>>();
  const notifications: Plan<Doc>["notifications"] = [];
  for (const event of relevant) {
    if (skip.has(event.eventId)) continue;
    // Staged per event: a failure leaves no half-applied event behind.
    const changed = new Map<string, Doc | null>();
    const heard: Plan<Doc>["notifications"] = [];
    try {
      for (const id of projection.documentIds(event)) {
        const doc = projection.evolve(changed.has(id) ? changed.get(id)! : (after.get(id) ?? null), event, id);
        changed.set(id, doc);
        for (const topic of projection.topics?.(id, doc, event) ?? []) heard.push({ topic, message: notification(projection.name, id, doc, event) });
      }
    } catch (error) {
      throw new EventFailure(event, error);
    }
    for (const [id, doc] of changed) {
      after.set(id, doc);
      const states = history.get(id);
      if (states) states.push({ event, doc });
      else history.set(id, [{ event, doc }]);
    }
    notifications.push(...heard);
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
      throw new EventFailure(firstFailing(projection, history.get(id)!) ?? history.get(id)!.at(-1)!.event, error);
    }
  }
  return { ids, after, indexes, json, notifications };
}

/** The first event after which the document could not be indexed or serialised. */
function firstFailing<Doc>(projection: DocumentProjection<Doc>, states: Array<{ event: RecordedEvent; doc: Doc | null }>): RecordedEvent | null {
  for (const { event, doc } of states) {
    try {
      if (doc !== null) projection.indexes?.(doc);
      JSON.stringify(doc);
    } catch {
      return event;
    }
  }
  return null;
}

/** Queues the plan's document writes and index changes on `tx`. */
export function writePlan<Doc>(
  tx: ChainableCommander,
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
    const key = (e: IndexEntry) => `${e.index}\u0000${e.member}`;
    const keep = new Set(newEntries.map(key));
    const had = new Set(oldEntries.map(key));
    for (const e of oldEntries) if (!keep.has(key(e))) tx.zrem(gen.index(e.index), e.member);
    for (const e of newEntries) if (!had.has(key(e))) tx.zadd(gen.index(e.index), 0, e.member);
  }
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
