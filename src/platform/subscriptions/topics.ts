/**
 * The Redis names a change feed lives under: a pub/sub channel per topic of a
 * projection, and a change log (a capped stream) per projection, both under
 * the projection's hash tag. The projection keyspace
 * (projection/keys.ts) implements them, so the read side and the feeds agree
 * on one layout without the feeds knowing anything else of read models.
 */
export interface FeedKeys {
  topic(projection: string, topic: string): string;
  changeLog(projection: string): string;
}

/** What subscribers receive on a topic after a change has been committed to Redis. */
export interface ChangeNotification<Doc = unknown> {
  projection: string;
  id: string;
  document: Doc | null;
  eventType: string;
  eventId: string;
  streamVersion: number;
  /** Log position token of the event, comparable with mutation results. */
  position: string;
}
