import type { ChainableCommander } from "ioredis";
import type { LogPosition } from "../eventstore/logPosition";
import { logChanges } from "./changeLog";
import { type PubSubMode, queuePublish } from "../core/redisPubSub";
import type { FeedKeys } from "./topics";

/**
 * Publishes a batch's changes, and appends them to the projection's change log
 * in the same transaction (unless `log` is null), so a subscription can replay
 * them from any position the log still holds. A batch without changes still
 * goes to the log, which keeps it only to start a new log (see changeLog.ts).
 */
export function publishChanges(
  tx: ChainableCommander,
  keys: FeedKeys,
  projection: string,
  mode: PubSubMode,
  notifications: ReadonlyArray<{ topic: string; message: unknown }>,
  log: { from: LogPosition; to: LogPosition; maxBatches: number } | null,
): void {
  const published = notifications.map(({ topic, message }) => ({ channel: keys.topic(projection, topic), message: JSON.stringify(message) }));
  for (const { channel, message } of published) queuePublish(tx, mode, channel, message);
  if (log) logChanges(tx, keys, projection, { ...log, changes: published });
}
