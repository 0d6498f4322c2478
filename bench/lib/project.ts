import type { Redis } from "ioredis";
import type { EventStore } from "../../src/platform/eventstore/eventStore";
import type { Queryable } from "../../src/platform/eventstore/queryable";
import type { ReadModelKeys } from "../../src/platform/projection/keys";
import { projectionLag } from "../../src/platform/projection/lag";
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
 * Waits until the live projector has projected every committed event into
 * every projection named (their lag, as `projectionStatus` reports it, is
 * 0): so that work one measurement left behind (events appended in process,
 * which the catch-up tick projects) is not charged to the next.
 */
export async function projectedToHead(db: Queryable, redis: Redis, keys: ReadModelKeys, projections: readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lags = await Promise.all(projections.map((name) => projectionLag(db, redis, keys, name)));
    if (lags.every((lag) => lag.events === 0)) return;
    if (Date.now() > deadline) throw new Error(`projections ${projections.join(", ")} still ${lags.map((l) => l.events).join(", ")} events behind after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
