import type { Redis } from "ioredis";
import { untilReady } from "../bus/connections";
import { errorMessage } from "../errors";
import type { Logger } from "../observability/logger";

type Callback = (event: CustomEvent) => void;
type Listener = Callback | { handleEvent: Callback };

export interface ReplayingEventTargetOptions {
  /** Dedicated to SUBSCRIBE. */
  subscriber: Redis;
  /** Reads the change log when the subscriber comes back. */
  reader: Redis;
  /** The stream the projector appends every published batch to (ReadModelKeys.changeLog). */
  changeLog: string;
  log: Logger;
  /** Replays from this long before the disconnect: the stream's ids come from the Redis server's clock. */
  marginMs?: number;
}

/**
 * The event target behind GraphQL subscriptions: Redis pub/sub, plus a replay
 * of what was published while the subscriber was disconnected (a Redis
 * restart, a network cut), read back from the projector's change log.
 *
 * From the moment the connection drops until the replay is done, live
 * messages are held back and delivered after it, so a document's missed
 * changes always arrive before its newer ones; the replay overlaps with what
 * was delivered before, and `inCommitOrder` drops those repeats per subscriber.
 */
export function replayingEventTarget(options: ReplayingEventTargetOptions) {
  const { subscriber, reader, changeLog, log, marginMs = 2000 } = options;
  const callbacksForTopic = new Map<string, Set<Listener>>();
  let disconnectedAt: number | null = null;
  let held: Array<[string, string]> | null = null;

  const deliver = (channel: string, message: string) => {
    const callbacks = callbacksForTopic.get(channel);
    if (!callbacks) return;
    const event = new CustomEvent(channel, { detail: message === "" ? null : (JSON.parse(message) as unknown) });
    for (const listener of callbacks) {
      if (typeof listener === "function") listener(event);
      else listener.handleEvent(event);
    }
  };

  const replay = async () => {
    const since = (disconnectedAt ?? Date.now()) - marginMs;
    try {
      if (!(await untilReady(reader, 10_000))) throw new Error("Redis not ready after 10000 ms");
      const entries = await reader.xrange(changeLog, String(Math.max(0, since)), "+");
      let changes = 0;
      for (const [, fields] of entries) {
        const batch = JSON.parse(fields[1] ?? "[]") as Array<{ channel: string; message: string }>;
        for (const { channel, message } of batch) deliver(channel, message);
        changes += batch.length;
      }
      log.info(`subscriptions: replayed ${changes} changes published while disconnected`);
    } catch (error) {
      log.warn(`subscriptions: could not replay the changes missed while disconnected: ${errorMessage(error)}`);
    } finally {
      const waiting = held ?? [];
      [held, disconnectedAt] = [null, null];
      for (const [channel, message] of waiting) deliver(channel, message);
    }
  };

  subscriber.on("message", (channel: string, message: string) => (held ? held.push([channel, message]) : deliver(channel, message)));
  subscriber.on("close", () => {
    if (disconnectedAt !== null) return;
    disconnectedAt = Date.now();
    held = [];
  });
  subscriber.on("ready", () => {
    if (disconnectedAt !== null) void replay();
  });

  return {
    addEventListener(topic: string, listener: Listener | null) {
      if (!listener) return;
      let callbacks = callbacksForTopic.get(topic);
      if (!callbacks) {
        callbacks = new Set();
        callbacksForTopic.set(topic, callbacks);
        void subscriber.subscribe(topic).catch(() => undefined); // ioredis re-subscribes on reconnect
      }
      callbacks.add(listener);
    },
    removeEventListener(topic: string, listener: Listener | null) {
      const callbacks = callbacksForTopic.get(topic);
      if (!listener || !callbacks) return;
      callbacks.delete(listener);
      if (callbacks.size > 0) return;
      callbacksForTopic.delete(topic);
      void subscriber.unsubscribe(topic).catch(() => undefined);
    },
    /** Changes are published by the projector, never by the API. */
    dispatchEvent(): boolean {
      return false;
    },
  };
}
