import type { RedisClient } from "../../src/platform/core/redis";
import { scanKeys } from "../../src/platform/core/redisScan";
import type { ReadModelKeys } from "../../src/platform/projection/keys";

export interface GenerationSnapshot {
  docs: Record<string, unknown>;
  indexes: Record<string, string[]>;
}

/** Every document and index of one generation, keyed relative to it, for equality checks; on a cluster, from every master. */
export async function snapshotGeneration(
  redis: RedisClient,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
): Promise<GenerationSnapshot> {
  const gen = keys.generation(projection, generation);
  const snapshot: GenerationSnapshot = { docs: {}, indexes: {} };
  await scanKeys(redis, gen.pattern, async (found) => {
    for (const key of found) {
      const relative = key.slice(gen.keyspace.length + 1);
      if (relative.startsWith("doc:")) snapshot.docs[relative.slice(4)] = JSON.parse((await redis.get(key)) ?? "null");
      if (relative.startsWith("idx:")) snapshot.indexes[relative.slice(4)] = await redis.zrange(key, 0, -1);
    }
  });
  return snapshot;
}
