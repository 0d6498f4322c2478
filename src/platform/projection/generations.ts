import { randomUUID } from "node:crypto";
import type { RedisClient } from "../core/redis";
import { scanKeys, unlinkKeys } from "../core/redisScan";
import { parseGeneration, type ReadModelKeys } from "./keys";

export { unlinkMatching } from "../core/redisScan";

/**
 * Removes every generation of a projection but `keep`: what a crashed rebuild
 * left half-built, or an old generation a crash kept from being deleted.
 * Only safe while holding the rebuild lock (no one else writes an inactive generation).
 */
export async function removeGenerationsExcept(redis: RedisClient, keys: ReadModelKeys, projection: string, keep: number): Promise<number> {
  const segment = keys.projection(projection);
  let removed = 0;
  // The generations share their root with the projection's other keys (`active`, `status`…): only numbered ones go.
  await scanKeys(redis, `${segment.generationsRoot()}*`, async (found) => {
    const stale = found.filter((key) => {
      const generation = segment.generationOf(key);
      return generation !== null && generation !== keep;
    });
    removed += await unlinkKeys(redis, stale);
  });
  return removed;
}

/**
 * Removes what crashed rebuilds left of a projection, under its rebuild lock
 * (so no rebuild is writing an inactive generation meanwhile). Skips the
 * projection when a rebuild holds the lock. Returns the keys removed, or null.
 */
export async function removeAbandonedGenerations(redis: RedisClient, keys: ReadModelKeys, projection: string, lockTtlMs: number): Promise<number | null> {
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
