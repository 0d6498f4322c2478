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
