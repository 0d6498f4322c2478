import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { snapshotGeneration } from "../../../test/support/readModelSnapshot";
import { formatLogPosition, LOG_START } from "../eventstore/logPosition";
import { EventStore } from "../eventstore/eventStore";
import { ReadModelKeys } from "./keys";
import { ProjectionRunner } from "./projectionRunner";
import { type Tally, tallies } from "../../../test/support/tallyProjection";

const meta = { correlationId: "c", causationId: "c", actor: "test" };

let db: TestDatabase;
let redis: Redis;
let other: Redis;
let keys: ReadModelKeys;
const runners: Redis[] = [];

/** Steps until a step finds nothing. */
async function drain(r: ProjectionRunner<Tally>): Promise<void> {
  for (;;) if ((await r.step()).kind === "idle") return;
}

function runner(connection: Redis, batchSize = 10) {
  return new ProjectionRunner(connection, db.store, keys, tallies, { batchSize, target: { kind: "active" } });
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  other = testRedis();
  runners.push(redis, other);
  keys = new ReadModelKeys(testPrefix());
  for (let s = 0; s < 5; s++) {
    for (let n = 1; n <= 20; n++) {
      await db.store.append(`tally-${s}`, "any", [{ type: "Added", data: { n }, metadata: meta }]);
    }
  }
  await db.store.append("noise", "any", [{ type: "Ignored", data: {}, metadata: meta }]);
  await waitForLogVisible(db);
});

afterAll(async () => {
  await deleteKeys(redis, keys.prefix);
  await Promise.all(runners.map((r) => r.quit()));
  await db.drop();
});

it("applies a batch exactly once: replaying it changes nothing", async () => {
  const first = await db.store.readAll(LOG_START, 10);
  const live = runner(redis);
  expect(await live.applyBatch(LOG_START, first.events)).toMatchObject({ kind: "applied", events: 10 });
  const after = await snapshotGeneration(redis, keys, "tallies", 1);
  expect(await live.applyBatch(LOG_START, first.events)).toEqual({ kind: "superseded" });
  expect(await snapshotGeneration(redis, keys, "tallies", 1)).toEqual(after);
  expect(formatLogPosition(await live.checkpoint())).toBe(formatLogPosition(first.checkpoint));
});

it("two racing runners on separate connections still apply every event once", async () => {
  const a = runner(redis, 7);
  const b = runner(other, 11);
  await Promise.all([drain(a), drain(b)]);
  const { docs, indexes } = await snapshotGeneration(redis, keys, "tallies", 1);
  expect(Object.keys(docs).sort()).toEqual(["tally-0", "tally-1", "tally-2", "tally-3", "tally-4"]);
  for (const doc of Object.values(docs)) expect(doc).toMatchObject({ sum: 210, count: 20 });
  expect(indexes.bySum).toHaveLength(5); // old index entries were replaced, not accumulated
});

it("publishes changes only for batches that commit", async () => {
  const subscriber = testRedis();
  runners.push(subscriber);
  const heard: string[] = [];
  subscriber.on("message", (_channel: string, message: string) => heard.push(message));
  await subscriber.subscribe(keys.topic("tallies", "tally:tally-9"));
  const live = runner(redis);
  await db.store.append("tally-9", "no_stream", [{ type: "Added", data: { n: 5 }, metadata: meta }]);
  await waitForLogVisible(db);
  const before = await live.checkpoint();
  const page = await db.store.readAll(before, 100);
  await live.applyBatch(before, page.events);
  await live.applyBatch(before, page.events); // a duplicate: must stay silent
  await new Promise((r) => setTimeout(r, 100));
  expect(heard.map((m) => JSON.parse(m))).toEqual([
    expect.objectContaining({ id: "tally-9", eventType: "Added", document: { stream: "tally-9", sum: 5, count: 1 } }),
  ]);
});

it("after a switch of the active generation, the next step writes to the generation the pointer names, not the one it found last", async () => {
  const live = runner(redis, 1000);
  await drain(live); // its last step found generation 1 active
  const rebuilt = new ProjectionRunner(other, db.store, keys, tallies, { batchSize: 1000, target: { kind: "fixed", generation: 2 } });
  await drain(rebuilt);
  await redis.set(keys.activeGeneration("tallies"), "2");
  const before = await snapshotGeneration(redis, keys, "tallies", 1);

  await db.store.append("tally-0", "any", [{ type: "Added", data: { n: 1000 }, metadata: meta }]);
  await waitForLogVisible(db);
  expect(await live.step()).toMatchObject({ kind: "applied", events: 1 });

  expect((await snapshotGeneration(redis, keys, "tallies", 2)).docs["tally-0"]).toMatchObject({ sum: 1210, count: 21 });
  expect(await snapshotGeneration(redis, keys, "tallies", 1)).toEqual(before);
  expect(formatLogPosition(await live.checkpoint())).toBe(formatLogPosition(await rebuilt.checkpoint()));
});

it("says a step reached the log's visible head when it read less than a batch, so a drain need not read again", async () => {
  await drain(runner(redis));
  for (let n = 1; n <= 3; n++) await db.store.append("tally-head", "any", [{ type: "Added", data: { n }, metadata: meta }]);
  await waitForLogVisible(db);
  const first = await runner(redis, 2).step();
  expect(first).toMatchObject({ kind: "applied", events: 2 });
  expect(first).not.toHaveProperty("atHead");
  expect(await runner(redis, 2).step()).toMatchObject({ kind: "applied", events: 1, atHead: true });
});

it("a step whose read a switch overtakes commits nothing: the pointer it was read against is guarded", async () => {
  await drain(runner(redis));
  const rebuilt = new ProjectionRunner(other, db.store, keys, tallies, { batchSize: 1000, target: { kind: "fixed", generation: 3 } });
  await drain(rebuilt);
  const active = keys.activeGeneration("tallies");
  const current = await redis.get(active);
  await db.store.append("tally-0", "any", [{ type: "Added", data: { n: 7 }, metadata: meta }]);
  await waitForLogVisible(db);
  // The switch lands between the step's open (which found the generation active now) and its commit.
  class SwitchingStore extends EventStore {
    override async readAll(...args: Parameters<EventStore["readAll"]>) {
      await redis.set(active, "3");
      return super.readAll(...args);
    }
  }
  const overtaken = new ProjectionRunner(redis, new SwitchingStore(db.pool), keys, tallies, { batchSize: 10, target: { kind: "active" } });
  const before = await snapshotGeneration(redis, keys, "tallies", Number(current));

  expect(await overtaken.step()).toEqual({ kind: "superseded" });
  expect(await snapshotGeneration(redis, keys, "tallies", Number(current))).toEqual(before);
});
