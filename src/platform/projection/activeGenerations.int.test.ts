import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { eventually } from "../../../test/support/system";
import { ActiveGenerations } from "./activeGenerations";
import { unlinkMatching } from "./generations";
import { ReadModelKeys } from "./keys";
import { ReadModelStore } from "./readModelStore";
import { projectGeneration, Rebuild } from "./rebuild";
import { type Tally, tallies } from "../../../test/support/tallyProjection";
import type { DocumentProjection } from "./types";

/** The same read model, with every document marked, so that a read tells which generation answered. */
const marked: DocumentProjection<Tally & { marked?: number }> = {
  ...tallies,
  evolve: (doc, e, id) => {
    const tally = tallies.evolve(doc, e, id);
    return tally && { ...tally, marked: 1 };
  },
};
const meta = { correlationId: "c", causationId: "c", actor: "test" };

let db: TestDatabase;
let redis: Redis;
let keys: ReadModelKeys;
let clock = 0;
let subscriber: Redis;
let generations: ActiveGenerations;
let readModels: ReadModelStore;
const connections: Redis[] = [];

function connection(): Redis {
  const c = testRedis();
  connections.push(c);
  return c;
}

/** What a rebuild does, minus the message: moves the pointer without anyone hearing about it. */
async function silentlyProject(generation: number): Promise<void> {
  await projectGeneration(redis, db.store, keys, marked, generation);
  await redis.set(keys.activeGeneration("tallies"), String(generation));
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  for (let i = 1; i <= 30; i++) await db.store.append(`t-${i % 3}`, "any", [{ type: "Added", data: { n: i }, metadata: meta }]);
  await waitForLogVisible(db); // another test's open transaction on the shared server would hide them from the projection
});

beforeEach(async () => {
  keys = new ReadModelKeys(testPrefix());
  await projectGeneration(redis, db.store, keys, tallies, 1);
  subscriber = connection();
  const reader = connection();
  await Promise.all([subscriber.ping(), reader.ping()]); // connected: the store fails fast on a connection not ready
  generations = new ActiveGenerations(reader, keys, { now: () => clock });
  await generations.listen(subscriber);
  readModels = new ReadModelStore(reader, keys, generations);
  expect(await readModels.get<Tally>("tallies", "t-0")).toEqual({ stream: "t-0", sum: 165, count: 10 }); // caches generation 1
});

afterEach(async () => {
  await deleteKeys(redis, keys.prefix);
  await Promise.all(connections.splice(0).map((c) => c.quit().catch(() => undefined)));
});

afterAll(async () => {
  await redis.quit();
  await db.drop();
});

it("caches the pointer: a switch nobody announced is not seen while the old generation still answers", async () => {
  await silentlyProject(2);
  expect(await readModels.get<Tally>("tallies", "t-0")).not.toHaveProperty("marked");
  expect((await generations.current("tallies")).cached).toBe(true);
});

it("drops the cached pointer when a switch is published", async () => {
  await silentlyProject(2);
  await redis.publish(keys.checkpointChannel("tallies"), "tallies 2 0/0");
  await eventually(async () => (await readModels.get<Tally & { marked?: number }>("tallies", "t-0"))?.marked === 1, "generation 2 served");
});

it("a live checkpoint of the cached generation keeps the pointer cached", async () => {
  await redis.publish(keys.checkpointChannel("tallies"), "tallies 1 0/0");
  await redis.publish(keys.checkpointChannel("tallies"), "other 7 0/0");
  await eventually(async () => (await generations.current("tallies")).cached, "still cached");
});

it("a full rebuild: every read during it answers, and the first read after it comes from the new generation", async () => {
  const answers: Array<Tally | null> = [];
  let done = false;
  const reading = (async () => {
    while (!done) answers.push(await readModels.get<Tally>("tallies", "t-1"));
  })();
  const rebuild = await Rebuild.start(connection(), db.store, keys, marked, { batchSize: 4, lockTtlMs: 5000, by: "test" });
  await rebuild.run();
  const after = await readModels.get<Tally & { marked?: number }>("tallies", "t-1");
  done = true;
  await reading;
  expect(after).toEqual({ stream: "t-1", sum: 145, count: 10, marked: 1 });
  expect(answers.length).toBeGreaterThan(0);
  for (const a of answers) expect(a).toMatchObject({ stream: "t-1", sum: 145, count: 10 }); // never null: no read of a deleted generation
});

describe("a missed invalidation", () => {
  it("a read that finds the cached generation deleted re-reads the pointer (documents, pages, counts, checkpoints)", async () => {
    const oldCheckpoint = await readModels.checkpoint("tallies");
    expect(await readModels.count("tallies", "bySum")).toBe(3);
    await silentlyProject(2);
    await unlinkMatching(redis, keys.generation("tallies", 1).pattern);
    expect(await readModels.get("tallies", "t-2")).toMatchObject({ stream: "t-2", marked: 1 });
    const page = await readModels.page<{ marked?: number }>("tallies", "bySum", { first: 10 });
    expect(page.nodes.map((n) => n.node.marked)).toEqual([1, 1, 1]);
    expect(await readModels.count("tallies", "bySum")).toBe(3);
    expect(await readModels.checkpoint("tallies")).toEqual(oldCheckpoint);
  });

  it("a cached pointer lives at most maxAgeMs", async () => {
    await silentlyProject(2);
    clock += 999;
    expect(await readModels.get("tallies", "t-0")).not.toHaveProperty("marked");
    clock += 1;
    expect(await readModels.get("tallies", "t-0")).toHaveProperty("marked", 1);
  });

  it("while the subscriber is disconnected nothing is cached, and caching resumes once it has resubscribed", async () => {
    subscriber.disconnect(true);
    await silentlyProject(2);
    expect(await readModels.get("tallies", "t-0")).toHaveProperty("marked", 1);
    await eventually(async () => subscriber.status === "ready", "the subscriber reconnects");
    await eventually(async () => (await generations.current("tallies")).cached, "caching again");
    await redis.set(keys.activeGeneration("tallies"), "1");
    expect(await readModels.get("tallies", "t-0")).toHaveProperty("marked", 1); // cached (generation 2)
    await redis.publish(keys.checkpointChannel("tallies"), "tallies 1 0/0");
    await eventually(async () => !(await readModels.get<{ marked?: number }>("tallies", "t-0"))?.marked, "generation 1 served again");
  });
});
