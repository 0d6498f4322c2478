import { isDeepStrictEqual } from "node:util";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { fromScratch } from "../../../test/support/fromScratch";
import { snapshotGeneration } from "../../../test/support/readModelSnapshot";
import { eventually } from "../../../test/support/system";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { bullPrefix } from "../core/redis";
import { FIRST_GENERATION, ReadModelKeys } from "./keys";
import { Projector } from "./projector";
import { indexMember } from "./readModelStore";
import type { DocumentProjection } from "./types";
import { type DrainJobData, DRAIN_JOB, PROJECTOR_QUEUE } from "./wakeups";
import { silentLogger } from "../observability/logger";

/** Read models come back by themselves: a projection added later back-fills from the log, and a wiped Redis is re-projected. */
interface Tally {
  stream: string;
  sum: number;
}
const tallies: DocumentProjection<Tally> = {
  name: "tallies",
  eventTypes: ["Added"],
  documentIds: (e) => [e.streamId],
  evolve: (doc, e, id) => ({ stream: id, sum: (doc?.sum ?? 0) + (e.data as { n: number }).n }),
  indexes: (doc) => [{ index: "bySum", member: indexMember(String(doc.sum).padStart(8, "0"), doc.stream) }],
};
/** Added after the system has been running: the largest number each stream has carried. */
const maxima: DocumentProjection<{ max: number }> = {
  name: "maxima",
  eventTypes: ["Added"],
  documentIds: (e) => [e.streamId],
  evolve: (doc, e) => ({ max: Math.max(doc?.max ?? 0, (e.data as { n: number }).n) }),
  indexes: (doc) => [{ index: "all", member: indexMember(String(doc.max).padStart(8, "0"), "x") }],
};
const meta = { correlationId: "c", causationId: "c", actor: "test" };

let db: TestDatabase;
let redis: Redis;
let keys: ReadModelKeys;
const projectors: Projector[] = [];

const add = (stream: string, n: number) => db.store.append(stream, "any", [{ type: "Added", data: { n }, metadata: meta }]);

async function startProjector(projections: Array<DocumentProjection<Tally> | DocumentProjection<{ max: number }>>): Promise<Projector> {
  const projector = new Projector(
    { store: db.store, redisUrl: TEST_REDIS_URL, keys, projections: projections as DocumentProjection<unknown>[], log: silentLogger() },
    { catchUpEveryMs: 100, batchSize: 9 },
  );
  projectors.push(projector);
  await projector.start();
  return projector;
}

/** Waits until the active generation equals a from-scratch projection of the whole log. */
async function untilFromScratch<Doc>(projection: DocumentProjection<Doc>): Promise<void> {
  await waitForLogVisible(db);
  const reference = await fromScratch(redis, db.store, keys.prefix, projection);
  expect(Object.keys(reference.docs).length).toBeGreaterThan(0);
  await eventually(async () => {
    const active = Number((await redis.get(keys.activeGeneration(projection.name))) ?? FIRST_GENERATION);
    return isDeepStrictEqual(await snapshotGeneration(redis, keys, projection.name, active), reference);
  }, `${projection.name} to equal a from-scratch projection`);
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  keys = new ReadModelKeys(testPrefix());
});

afterAll(async () => {
  for (const p of projectors) await p.stop();
  await deleteKeys(redis, keys.prefix);
  await redis.quit();
  await db.drop();
});

it("a projection added to a running system back-fills from the start of the log; schedules left in Redis are removed", async () => {
  const first = await startProjector([tallies]);
  for (let i = 1; i <= 60; i++) await add(`s-${i % 4}`, i);
  await untilFromScratch(tallies);
  await first.stop();

  // What an older deployment may leave behind: a catch-up schedule, and a drain queued for a projection that is gone.
  const queue = new Queue<DrainJobData>(PROJECTOR_QUEUE, { connection: redis, prefix: bullPrefix(keys.prefix, PROJECTOR_QUEUE) });
  await queue.upsertJobScheduler("catch-up:retired", { every: 100 }, { name: DRAIN_JOB, data: { projection: "retired" } });
  await queue.add(DRAIN_JOB, { projection: "retired" });

  await startProjector([tallies, maxima]);
  for (let i = 61; i <= 80; i++) await add(`s-${i % 4}`, i);
  await untilFromScratch(maxima);
  await untilFromScratch(tallies);
  expect(await queue.getJobSchedulers()).toEqual([]);
  await eventually(async () => (await queue.getJobCounts("waiting", "failed")).waiting === 0, "the stray drain to be consumed");
  expect((await queue.getJobCounts("failed")).failed).toBe(0);
  await queue.close();
});

it("after Redis loses every key, the running projector projects every read model again from the log", async () => {
  const before = await snapshotGeneration(redis, keys, "tallies", 1);
  await deleteKeys(redis, keys.prefix); // everything: read models, checkpoints, BullMQ's queues and wake-up dedup keys
  expect(await snapshotGeneration(redis, keys, "tallies", 1)).toEqual({ docs: {}, indexes: {} });

  await untilFromScratch(tallies);
  await untilFromScratch(maxima);
  expect(await snapshotGeneration(redis, keys, "tallies", 1)).toEqual(before);
  // And it keeps following the log.
  await add("s-new", 5);
  await untilFromScratch(tallies);
  expect((await snapshotGeneration(redis, keys, "tallies", 1)).docs["s-new"]).toEqual({ stream: "s-new", sum: 5 });
});

it("a starting projector removes the generations a crashed rebuild left behind, never the active one", async () => {
  const active = await snapshotGeneration(redis, keys, "tallies", 1);
  await redis.set(keys.generation("tallies", 2).checkpoint, "1.1");
  await redis.set(keys.generation("tallies", 2).doc("half-built"), JSON.stringify({ stream: "half-built", sum: 1 }));
  await redis.zadd(keys.generation("maxima", 5).index("all"), 0, "x");
  await startProjector([tallies, maxima]);
  await eventually(
    async () => (await redis.exists(keys.generation("tallies", 2).checkpoint, keys.generation("tallies", 2).doc("half-built"), keys.generation("maxima", 5).index("all"))) === 0,
    "the abandoned generations to be removed",
  );
  expect(await snapshotGeneration(redis, keys, "tallies", 1)).toEqual(active);
  expect(await redis.exists(keys.rebuildLock("tallies"), keys.rebuildLock("maxima"))).toBe(0);
});
