import { randomUUID } from "node:crypto";
import type { RedisClient } from "../core/redis";
import { z } from "zod";

/**
 * A direct reply channel: each sending process subscribes to one pub/sub
 * channel of its own and names it in its jobs (`replyTo`); the worker
 * publishes the job's reply, a progress notice or its final failure there.
 * One PUBLISH per answer, heard only by the process that waits for it,
 * instead of every process reading every event of the queue's stream.
 *
 * Pub/sub is lossy (a reconnect drops what was sent meanwhile), so it only
 * wakes the caller early: the job's stored state stays the truth, read at the
 * lane's poll interval and after every reconnect of the subscriber.
 */
export type ReplyBody = { reply: unknown } | { notice: unknown } | { failed: string };
export type ReplyMessage = { id: string } & ReplyBody;

const PREFIX_PATTERN = /^[A-Za-z0-9_.:{}#-]{1,100}$/;

/** A fresh channel for one process's replies under the bus prefix. */
export function newReplyChannel(busPrefix: string): string {
  return `${busPrefix}:replies:${randomUUID()}`;
}

/**
 * Whether `channel` may be published to for a job taken from the queue under
 * `busPrefix`: a forged job must not make a worker publish on another channel
 * (a read model's topic, say), so only this prefix's reply channels qualify.
 */
export function isReplyChannel(channel: unknown, busPrefix: string): channel is string {
  if (typeof channel !== "string" || !PREFIX_PATTERN.test(busPrefix)) return false;
  const head = `${busPrefix}:replies:`;
  return channel.startsWith(head) && /^[0-9a-f-]{36}$/.test(channel.slice(head.length));
}

/** Sends `message` without waiting: a lost one costs the caller one poll interval, never the answer. */
export function publishReply(connection: RedisClient, channel: string, message: ReplyMessage): void {
  connection.publish(channel, JSON.stringify(message)).catch(() => undefined);
}

const messageSchema = z.union([
  z.object({ id: z.string(), reply: z.unknown() }),
  z.object({ id: z.string(), notice: z.unknown() }),
  z.object({ id: z.string(), failed: z.string() }),
]);

/** A message heard on a reply channel, or null when it is not one (never trusted blindly). */
export function parseReplyMessage(text: string): ReplyMessage | null {
  try {
    const parsed = messageSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The subscribing end: one connection in subscriber mode, for one channel.
 * `onMessage` gets every parsed message, `onResubscribed` each time the
 * subscription is back after a reconnect (messages may have been lost).
 */
export class ReplySubscriber {
  private ready: Promise<void> | null = null;

  constructor(
    readonly channel: string,
    private readonly connection: RedisClient,
    onMessage: (message: ReplyMessage) => void,
    private readonly onResubscribed: () => void,
  ) {
    connection.on("message", (channel: string, text: string) => {
      if (channel !== this.channel) return;
      const message = parseReplyMessage(text);
      if (message) onMessage(message);
    });
  }

  /** Subscribes once; resolves when Redis confirmed it, so no reply published afterwards goes unheard. */
  start(): Promise<void> {
    this.ready ??= (async () => {
      await this.connection.subscribe(this.channel);
      // ioredis resubscribes by itself after a reconnect; what was published in between is lost: read again.
      this.connection.on("ready", () => this.onResubscribed());
    })();
    this.ready.catch(() => (this.ready = null)); // the next request tries again
    return this.ready;
  }

  /** Drops the connection at once: a subscriber has nothing in flight worth a QUIT round trip. */
  close(): Promise<void> {
    this.connection.disconnect();
    return Promise.resolve();
  }
}
