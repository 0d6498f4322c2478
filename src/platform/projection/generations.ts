import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { parseGeneration, type ReadModelKeys } from "./keys";

/** Deletes every key matching `pattern`, in SCAN pages (never a whole-database flush: the Redis may be shared). */
export async function unlinkMatching(redis: Redis, pattern: string): Promise<number> {
  let cursor = "0";
  let removed = 0;
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (found.length > 0) removed += await redis.unlink(...found);
  } while (cursor !== "0");
  return removed;
}

/**
 * Removes every generation of a projection but `keep`: what a crashed rebuild
 * left half-built, or an old generation a crash kept from being deleted.
 * Only safe while holding the rebuild lock (no one else writes an inactive generation).
 */
export async function removeGenerationsExcept(redis: Redis, keys: ReadModelKeys, projection: string, keep: number): Promise<number> {
  const root = keys.generationsRoot(projection);
  let cursor = "0";
  let removed = 0;
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${root}*`, "COUNT", 1000);
    cursor = next;
    const stale = found.filter((key) => {
      const generation = key.slice(root.length).split(":", 1)[0];
      return generation !== String(keep);
    });
    if (stale.length > 0) removed += await redis.unlink(...stale);
  } while (cursor !== "0");
  return removed;
}

/**
 * Removes what crashed rebuilds left of a projection, under its rebuild lock
 * (so no rebuild is writing an inactive generation meanwhile). Skips the
 * projection when a rebuild holds the lock. Returns the keys removed, or null.
 */
export async function removeAbandonedGenerations(redis: Redis, keys: ReadModelKeys, projection: string, lockTtlMs: number): Promise<number | null> {
  const lock = keys.rebuildLock(projection);
  const token = JSON.stringify({ token: randomUUID(), by: "projector start-up cleanup" });
  if ((await redis.set(lock, token, "PX", lockTtlMs, "NX")) !== "OK") return null;
  try {
    const active = parseGeneration(await redis.get(keys.activeGeneration(projection)));
    return await removeGenerationsExcept(redis, keys, projection, active);
  } finally {
    await redis.eval(RELEASE, 1, lock, token).catch(() => undefined);
  }
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
