import type { ChainableCommander } from "ioredis";
import { isCluster, type RedisClient } from "./redis";

/**
 * Pub/sub that works on both kinds of Redis: classic PUBLISH/SUBSCRIBE on a
 * single server, sharded SPUBLISH/SSUBSCRIBE on a cluster. A classic message
 * is broadcast over the whole cluster bus to every node; a sharded one stays
 * on the master (and replicas) of its channel's slot, and a commit can publish
 * to a channel of its own hash tag.
 */
export type PubSubMode = "classic" | "sharded";

export function pubSubMode(client: RedisClient): PubSubMode {
  return isCluster(client) ? "sharded" : "classic";
}

/** Queues a publish on a transaction or pipeline. */
export function queuePublish(tx: ChainableCommander, mode: PubSubMode, channel: string, message: string): void {
  if (mode === "sharded") tx.spublish(channel, message);
  else tx.publish(channel, message);
}

export async function publish(client: RedisClient, channel: string, message: string): Promise<void> {
  if (isCluster(client)) await client.spublish(channel, message);
  else await client.publish(channel, message);
}

/**
 * Subscribes `subscriber` (created with `subscriber: true` on a cluster) to
 * `channels`; resolves once Redis confirmed. On a cluster the channels may
 * live in different slots: ioredis sends each to its master.
 */
export async function subscribe(subscriber: RedisClient, ...channels: string[]): Promise<void> {
  if (channels.length === 0) return;
  if (isCluster(subscriber)) await Promise.all(channels.map((channel) => subscriber.ssubscribe(channel)));
  else await subscriber.subscribe(...channels);
}

export async function unsubscribe(subscriber: RedisClient, ...channels: string[]): Promise<void> {
  if (channels.length === 0) return;
  if (isCluster(subscriber)) await Promise.all(channels.map((channel) => subscriber.sunsubscribe(channel)));
  else await subscriber.unsubscribe(...channels);
}

/** Registers `handler` for every message `subscriber` receives, of either kind. */
export function onMessage(subscriber: RedisClient, handler: (channel: string, message: string) => void): void {
  subscriber.on(isCluster(subscriber) ? "smessage" : "message", handler);
}

/** Subscribers on each channel (PUBSUB NUMSUB, or SHARDNUMSUB on a cluster). */
export async function subscriberCount(client: RedisClient, channel: string): Promise<number> {
  const reply = isCluster(client) ? await client.call("PUBSUB", "SHARDNUMSUB", channel) : await client.pubsub("NUMSUB", channel);
  return Array.isArray(reply) ? Number(reply[1] ?? 0) : 0;
}

/**
 * `lost`: messages may go unheard from now on (the connection, or on a
 * cluster one master's subscriber, dropped or was replaced after a slot
 * moved). `back`: subscribers are connected again and resubscribed by ioredis;
 * a caller that must know its channel is live again subscribes once more and
 * awaits it.
 */
export function onSubscriberChange(subscriber: RedisClient, handlers: { lost: () => void; back: () => void }): void {
  subscriber.on("close", handlers.lost);
  if (isCluster(subscriber)) {
    subscriber.on("-subscriber", handlers.lost);
    subscriber.on("subscribersReady", handlers.back);
  }
  subscriber.on("ready", handlers.back);
}
