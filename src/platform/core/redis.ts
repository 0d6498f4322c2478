import { Redis, type RedisOptions } from "ioredis";

/**
 * BullMQ needs `maxRetriesPerRequest: null` on connections used by workers,
 * so that a Redis outage blocks them instead of failing every command.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...options });
}

export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

/**
 * For WATCH/MULTI/EXEC: a WATCH lives on one TCP connection, so nothing may be
 * queued while disconnected or resent after a reconnect. Otherwise a batch
 * computed before Redis restarted (or lost its data) would be written blindly
 * into the new one, checkpoint included. Such commands fail instead, and the
 * caller starts over from what Redis now holds. Resolves once connected.
 */
export async function createTransactionalRedis(url: string, readyWithinMs = 10_000): Promise<Redis> {
  // maxRetriesPerRequest 0: commands in flight when the connection drops are rejected at once
  // (without it, ioredis neither resends them nor ever settles their promises).
  const connection = createRedis(url, { enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 });
  connection.on("error", () => undefined); // reconnects by itself; commands meanwhile fail and are retried by their callers
  if (!(await untilReady(connection, readyWithinMs))) {
    connection.disconnect();
    throw new Error(`Redis not ready within ${readyWithinMs} ms`);
  }
  return connection;
}

/** Resolves true once `connection` is ready, false after `ms` (it keeps reconnecting on its own). */
export function untilReady(connection: Redis, ms: number): Promise<boolean> {
  if (connection.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      connection.off("ready", onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    connection.once("ready", onReady);
  });
}
