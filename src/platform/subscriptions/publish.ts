import type { RedisWrites } from "../core/redisWrites";
import type { LogPosition } from "../eventstore/logPosition";
import { logChanges } from "./changeLog";
import type { FeedKeys } from "./topics";

/**
 * Publishes a batch's changes, and appends them to the projection's change log
 * in the same commit (unless `log` is null), so a subscription can replay
 * them from any position the log still holds. A batch without changes still
 * goes to the log, which keeps it only to start a new log (see changeLog.ts).
 * Staged on the commit's writes: published from inside the commit script, so
 * only a batch that commits is heard of, exactly when it becomes visible.
 */
export function publishChanges(
  tx: RedisWrites,
  keys: FeedKeys,
  notifications: ReadonlyArray<{ topic: string; message: unknown }>,
  log: { projection: string; from: LogPosition; to: LogPosition; maxBatches: number } | null,
): void {
  const published = notifications.map(({ topic, message }) => ({ channel: keys.topic(topic), message: JSON.stringify(message) }));
  for (const { channel, message } of published) tx.publish(channel, message);
  if (log) logChanges(tx, keys, log.projection, { ...log, changes: published });
}
