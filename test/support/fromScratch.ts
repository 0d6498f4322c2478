import type { RedisClient } from "../../src/platform/core/redis";
import type { EventStore } from "../../src/platform/eventstore/eventStore";
import { unlinkMatching } from "../../src/platform/projection/generations";
import { ReadModelKeys } from "../../src/platform/projection/keys";
import { projectGeneration } from "../../src/platform/projection/rebuild";
import type { DocumentProjection } from "../../src/platform/projection/types";
import { type GenerationSnapshot, snapshotGeneration } from "./readModelSnapshot";

/**
 * Every document and index of `projection` projected from scratch, under a
 * throwaway key prefix that is removed afterwards: the reference a rebuilt
 * or recovered read model must equal.
 */
export async function fromScratch<Doc>(
  redis: RedisClient,
  store: EventStore,
  prefix: string,
  projection: DocumentProjection<Doc>,
): Promise<GenerationSnapshot> {
  const keys = new ReadModelKeys(`${prefix}:scratch`);
  try {
    await projectGeneration(redis, store, keys, projection, 1);
    return await snapshotGeneration(redis, keys, projection.name, 1);
  } finally {
    await unlinkMatching(redis, `${keys.prefix}:*`);
  }
}
