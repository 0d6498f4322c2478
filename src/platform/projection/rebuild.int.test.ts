import { isDeepStrictEqual } from "node:util";
import type { Redis } from "ioredis";
import { fromScratch } from "../../../test/support/fromScratch";
import { snapshotGeneration } from "../../../test/support/readModelSnapshot";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { eventually } from "../../../test/support/system";
import { EventStore } from "../eventstore/eventStore";
import { compareLogPositions, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import { ReadModelKeys } from "./keys";
import { Projector } from "./projector";
import { ProjectionRunner } from "./projectionRunner";
import { Rebuild, type RebuildProgress } from "./rebuild";
import { ReadModelStore } from "./readModelStore";
import { readProjectionStatus } from "./status";
import { type Tally, tallies } from "../../../test/support/tallyProjection";
import type { DocumentProjection } from "./types";
import { silentLogger } from "../observability/logger";

/** The same read model, made slow (a few ms per event) so that a rebuild outlasts its lock's expiry. */
const slowTallies: DocumentProjection<Tally> = {
  ...tallies,
  evolve: (doc, e, id) => {
    const until = Date.now() + 15;
    while (Date.now() < until);
    return tallies.evolve(doc, e, id);
  },
};
const meta = { correlationId: "c", causationId: "c", actor: "test" };

/**
 * The log as the rebuild reads it, which the test can hold: the rebuild must
 * not reach its switch before the live projection has applied the events
 * appended meanwhile. Left to timing, another test's open transaction on the
 * shared server could hide them from both until after the switch.
 */
class HeldLog extends EventStore {
  hold: Promise<unknown> | null = null;

  override async readAll(...args: Parameters<EventStore["readAll"]>): ReturnType<EventStore["readAll"]> {
    await this.hold;
    return super.readAll(...args);
  }
}

let db: TestDatabase;
let redis: Redis;
let keys: ReadModelKeys;
let readModels: ReadModelStore;
let projector: Projector;
const connections: Redis[] = [];

function connection(): Redis {
  const c = testRedis();
  connections.push(c);
  return c;
}

async function keyCount(pattern: string): Promise<number> {
  let cursor = "0";
  let n = 0;
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    n += found.length;
  } while (cursor !== "0");
  return n;
}

const add = (stream: string, n: number) => db.store.append(stream, "any", [{ type: "Added", data: { n }, metadata: meta }]);

const options = (onProgress?: (p: RebuildProgress) => void) => ({ batchSize: 7, lockTtlMs: 400, by: "test", ...(onProgress ? { onProgress } : {}) });

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  keys = new ReadModelKeys(testPrefix());
  readModels = new ReadModelStore(redis, keys);
  for (let i = 1; i <= 100; i++) await add(`t-${i % 5}`, i);
  projector = new Projector({ store: db.store, redisUrl: TEST_REDIS_URL, keys, projections: [tallies as DocumentProjection<unknown>], log: silentLogger() }, {
    catchUpEveryMs: 100,
  });
  await projector.start();
  await waitForLogVisible(db);
  await eventually(async () => (await readModels.get<Tally>("tallies", "t-0"))?.count === 20, "the live projection");
});

afterAll(async () => {
  await projector.stop();
  await deleteKeys(redis, keys.prefix);
  await Promise.all([redis, ...connections].map((c) => c.quit()));
  await db.drop();
});

it("rebuilds into a new generation while the old one serves, includes events appended meanwhile, switches, and deletes the old keys", async () => {
  // Every checkpoint published: the live projector's on generation 1, and the switch to generation 2.
  const published: Array<{ generation: number; position: LogPosition }> = [];
  const subscriber = connection();
  subscriber.on("message", (_channel: string, message: string) => {
    const [name, generation, token] = message.split(" ");
    if (name === "tallies") published.push({ generation: Number(generation), position: parseLogPosition(token!)! });
  });
  await subscriber.subscribe(keys.checkpointChannel("tallies"));
  const seen: Array<{ active: string | null; t0: Tally | null }> = [];
  const reported: Array<RebuildProgress | null> = [];
  let appended = false;
  const log = new HeldLog(db.pool);
  const rebuild = await Rebuild.start(connection(), log, keys, slowTallies, { ...options(), lockTtlMs: 1000 });
  expect(rebuild.generation).toBe(2);
  // While it runs: a second rebuild is refused, the old generation answers, and the log grows.
  await expect(Rebuild.start(connection(), db.store, keys, tallies, options())).rejects.toMatchObject({ code: "REBUILD_IN_PROGRESS" });
  const running = (async () => {
    for (;;) {
      const progress = await redis.hgetall(keys.rebuildProgress("tallies"));
      if (progress.phase === "projecting" && Number(progress.applied) > 0) {
        seen.push({ active: await redis.get(keys.activeGeneration("tallies")), t0: await readModels.get<Tally>("tallies", "t-0") });
        reported.push((await readProjectionStatus(redis, keys, "tallies")).rebuild);
        if (!appended) {
          appended = true;
          for (let i = 0; i < 10; i++) await add("t-late", 1000);
          log.hold = eventually(async () => (await readModels.get<Tally>("tallies", "t-late"))?.count === 10, "the live projection of the late events");
        }
      }
      if (progress.phase === undefined && seen.length > 0) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  // Slower than the lock's expiry: the rebuild must keep renewing it, or it would stop.
  const started = Date.now();
  const result = await rebuild.run();
  expect(Date.now() - started).toBeGreaterThan(1000);
  await running;
  expect(result).toMatchObject({ phase: "done", generation: 2, fromGeneration: 1 });
  expect(seen.length).toBeGreaterThan(0);
  for (const s of seen) expect(s).toEqual({ active: null, t0: expect.objectContaining({ count: 20 }) }); // generation 1 (the default) served
  // Status shows the rebuild and its progress while it runs.
  expect(reported[0]).toMatchObject({ projection: "tallies", generation: 2, fromGeneration: 1, phase: "projecting", total: 100, by: "test" });
  expect(reported[0]!.applied).toBeGreaterThan(0);
  expect(await redis.get(keys.activeGeneration("tallies"))).toBe("2");
  // The late events reached the old generation while the rebuild ran, and the switch did not go back in the log.
  const switchAt = published.findIndex((p) => p.generation === 2);
  const lateApplied = (await db.store.readAll(undefined, 1000)).checkpoint;
  expect(published.slice(0, switchAt).some((p) => p.generation === 1 && compareLogPositions(p.position, lateApplied) >= 0)).toBe(true);
  for (const before of published.slice(0, switchAt)) expect(compareLogPositions(published[switchAt]!.position, before.position)).toBeGreaterThanOrEqual(0);
  expect(await keyCount(keys.generation("tallies", 1).pattern)).toBe(0);
  expect(await redis.exists(keys.rebuildLock("tallies"), keys.rebuildProgress("tallies"))).toBe(0);

  await waitForLogVisible(db);
  const reference = await fromScratch(redis, db.store, keys.prefix, tallies);
  expect(reference.docs["t-late"]).toMatchObject({ sum: 10_000, count: 10 });
  // The live projector writes to the new generation now; it converges to the from-scratch result.
  await eventually(async () => isDeepStrictEqual(await snapshotGeneration(redis, keys, "tallies", 2), reference), "generation 2 to equal a from-scratch projection");
  expect(await readModels.get<Tally>("tallies", "t-late")).toMatchObject({ sum: 10_000, count: 10 });
});

it("a crashed rebuild leaves the old generation serving; the next one removes what it left and succeeds", async () => {
  const before = await snapshotGeneration(redis, keys, "tallies", 2);
  // What a rebuild that died mid-way leaves: its lock (until it expires) and a half-built generation 3.
  await redis.set(keys.rebuildLock("tallies"), JSON.stringify({ token: "dead", by: "crashed" }), "PX", 3000);
  const halfBuilt = new ProjectionRunner(redis, db.store, keys, tallies, { batchSize: 7, target: { kind: "fixed", generation: 3 } });
  await halfBuilt.step();
  await redis.set(keys.generation("tallies", 9).doc("stray"), "{}");
  expect(await keyCount(keys.generation("tallies", 3).pattern)).toBeGreaterThan(0);

  expect(await redis.get(keys.activeGeneration("tallies"))).toBe("2");
  expect(await snapshotGeneration(redis, keys, "tallies", 2)).toEqual(before);
  await expect(Rebuild.start(connection(), db.store, keys, tallies, options())).rejects.toMatchObject({ code: "REBUILD_IN_PROGRESS" });

  await eventually(async () => (await redis.exists(keys.rebuildLock("tallies"))) === 0, "the dead rebuild's lock to expire");
  const rebuild = await Rebuild.start(connection(), db.store, keys, tallies, options());
  expect(rebuild.generation).toBe(3);
  await rebuild.run();
  expect(await redis.get(keys.activeGeneration("tallies"))).toBe("3");
  expect(await keyCount(keys.generation("tallies", 2).pattern)).toBe(0);
  expect(await keyCount(keys.generation("tallies", 9).pattern)).toBe(0);
  const reference = await fromScratch(redis, db.store, keys.prefix, tallies);
  await eventually(async () => isDeepStrictEqual(await snapshotGeneration(redis, keys, "tallies", 3), reference), "generation 3 to equal a from-scratch projection");
});

it("an aborted rebuild removes its generation and releases the lock; the active one is untouched", async () => {
  const rebuild = await Rebuild.start(connection(), db.store, keys, tallies, { ...options(), onProgress: () => rebuild.abort() });
  await expect(rebuild.run()).rejects.toThrow(/aborted/);
  expect(await redis.get(keys.activeGeneration("tallies"))).toBe("3");
  expect(await keyCount(keys.generation("tallies", 4).pattern)).toBe(0);
  expect(await redis.exists(keys.rebuildLock("tallies"))).toBe(0);
  expect(await readModels.get<Tally>("tallies", "t-late")).toMatchObject({ count: 10 });
});
