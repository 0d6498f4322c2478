import type { Redis } from "ioredis";
import type { EventStore } from "../eventstore/eventStore";
import type { ReadModelKeys } from "./keys";
import { ProjectionRunner } from "./projectionRunner";
import type { DocumentProjection } from "./types";

/**
 * Projects the whole log into one generation of a projection, from wherever
 * that generation's checkpoint stands (from the start for a new one), until
 * it has caught up with the log. Used by rebuilds and by from-scratch checks.
 */
export async function projectGeneration<Doc>(
  redis: Redis,
  store: EventStore,
  keys: ReadModelKeys,
  projection: DocumentProjection<Doc>,
  generation: number,
  options: { batchSize?: number; onProgress?: (events: number) => void } = {},
): Promise<number> {
  const runner = new ProjectionRunner(redis, store, keys, projection, {
    batchSize: options.batchSize ?? 1000,
    target: { kind: "fixed", generation },
  });
  let total = 0;
  for (;;) {
    const step = await runner.step();
    if (step.kind === "idle") return total;
    if (step.kind === "applied") {
      total += step.events;
      options.onProgress?.(total);
    }
  }
}
