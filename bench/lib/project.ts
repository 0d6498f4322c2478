import type { Redis } from "ioredis";
import type { EventStore } from "../../src/platform/eventstore/eventStore";
import { compareLogPositions, formatLogPosition, LOG_START } from "../../src/platform/eventstore/logPosition";
import { parseGeneration, type ReadModelKeys } from "../../src/platform/projection/keys";
import { parseCheckpoint } from "../../src/platform/processing/redisCheckpointer";
import { projectGeneration } from "../../src/platform/projection/rebuild";
import type { DocumentProjection } from "../../src/platform/projection/types";

/**
 * projectGeneration until `expected` events are in: it stops when the log
 * reader finds nothing new, which a transaction open elsewhere on the shared
 * server can cause for a moment (the reader waits for it, never skips).
 */
export async function projectAll<Doc>(
  redis: Redis,
  store: EventStore,
  keys: ReadModelKeys,
  projection: DocumentProjection<Doc>,
  generation: number,
  expected: number,
  onProgress?: (events: number) => void,
  batchSize?: number,
  timeoutMs = 600_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let total = 0;
  for (;;) {
    const base = total;
    total += await projectGeneration(redis, store, keys, projection, generation, {
      onProgress: (n) => onProgress?.(base + n),
      ...(batchSize ? { batchSize } : {}),
    });
    if (total >= expected) return total;
    if (Date.now() > deadline) throw new Error(`projected ${total} of ${expected} events: the log reader is held back`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Waits until the live projector has projected the log as far as its reader
 * sees it now, in every projection named: so that work one measurement left
 * behind (events appended in process, which the catch-up tick projects) is
 * not charged to the next.
 */
export async function projectedToHead(redis: Redis, store: EventStore, keys: ReadModelKeys, projections: readonly string[], timeoutMs = 60_000): Promise<void> {
  const { head } = await store.lagBehind(LOG_START, 1);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const checkpoints = await Promise.all(
      projections.map(async (name) => {
        const generation = parseGeneration(await redis.get(keys.activeGeneration(name)));
        return parseCheckpoint(await redis.get(keys.generation(name, generation).checkpoint));
      }),
    );
    if (checkpoints.every((c) => compareLogPositions(c, head) >= 0)) return;
    if (Date.now() > deadline) throw new Error(`projections ${projections.join(", ")} not at the log's head ${formatLogPosition(head)} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
