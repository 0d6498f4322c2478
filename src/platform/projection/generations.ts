import type { Redis } from "ioredis";
import type { ReadModelKeys } from "./keys";

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
