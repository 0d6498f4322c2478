import type { Redis } from "ioredis";
import { isCluster, type RedisClient } from "./redis";

/**
 * Calls `onPage` with every key matching `pattern`, a SCAN page at a time.
 * A cluster client's SCAN reaches one node only, so on a cluster each master
 * is scanned on its own connection.
 */
export async function scanKeys(client: RedisClient, pattern: string, onPage: (keys: string[]) => Promise<void>): Promise<void> {
  const nodes: Redis[] = isCluster(client) ? client.nodes("master") : [client];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (found.length > 0) await onPage(found);
    } while (cursor !== "0");
  }
}

/**
 * UNLINKs `keys`. On a cluster, keys of different slots cannot go in one
 * command, so each goes alone (through the cluster client, which follows a
 * slot that moved).
 */
export async function unlinkKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  if (!isCluster(client)) return client.unlink(...keys);
  const counts = await Promise.all(keys.map((key) => client.unlink(key)));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** Deletes every key matching `pattern`, in SCAN pages (never a whole-database flush: the Redis may be shared). */
export async function unlinkMatching(client: RedisClient, pattern: string): Promise<number> {
  let removed = 0;
  await scanKeys(client, pattern, async (keys) => {
    removed += await unlinkKeys(client, keys);
  });
  return removed;
}
