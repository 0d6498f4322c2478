import type { Redis } from "ioredis";
import type { EventStore } from "../../src/platform/eventstore/eventStore";
import type { ReadModelKeys } from "../../src/platform/projection/keys";
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
