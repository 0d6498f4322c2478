import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, type TestDatabase, waitForLogVisible } from "../../../test/support/testEnv";
import { bullPrefix } from "../core/redis";
import { silentLogger } from "../observability/logger";
import { FIRST_GENERATION, ReadModelKeys } from "./keys";
import { Projector } from "./projector";
import type { DocumentProjection } from "./types";
import { DRAIN_JOB, type DrainJobData, drainedBy, PROJECTOR_QUEUE, ProjectorWakeups } from "./wakeups";

/**
 * An append wakes only the projections that read its event types, with one job
 * for all of them, and wake-ups are coalesced; a coalesced wake-up still drains
 * everything, since a drain reads the log to its head.
 */
const meta = { correlationId: "c", causationId: "c", actor: "test" };
const counter = (name: string, type: string): DocumentProjection<{ n: number }> => ({
  name,
  eventTypes: [type],
  documentIds: (e) => [e.streamId],
  evolve: (doc) => ({ n: (doc?.n ?? 0) + 1 }),
});
const targets = [
  { name: "orders", eventTypes: ["OrderPlaced", "OrderConfirmed"] },
  { name: "products", eventTypes: ["StockReserved"] },
  { name: "history", eventTypes: "all" as const },
];

let redis: Redis;
const opened: Array<{ close(): Promise<void> }> = [];
const prefixes: string[] = [];

function wakeupsUnder(prefix: string, projections: typeof targets) {
  prefixes.push(prefix);
  const wakeups = new ProjectorWakeups(redis, prefix, projections);
  const queue = new Queue<DrainJobData>(PROJECTOR_QUEUE, { connection: redis, prefix: bullPrefix(prefix, PROJECTOR_QUEUE) });
  opened.push(wakeups, queue);
  /** The projections of each queued job, one string per job. */
  const queued = async () => (await queue.getJobs(["waiting", "prioritized", "delayed", "active"])).map((j) => drainedBy(j.data).join(",")).sort();
  return { wakeups, queued };
}

beforeAll(() => {
  redis = testRedis();
});

afterAll(async () => {
  for (const o of opened) await o.close();
  for (const prefix of prefixes) await deleteKeys(redis, prefix);
  await redis.quit();
});

it("wakes the projections that read an appended type, and those that read every type, with one job; no other", async () => {
  const { wakeups, queued } = wakeupsUnder(testPrefix(), targets);
  expect(wakeups.targetsOf(["StockReserved"]).sort()).toEqual(["history", "products"]);
  wakeups.wake(["OrderPlaced"]);
  await wakeups.flush();
  expect(await queued()).toEqual(["history,orders"]);
});

it("wakes every projection when it is not told what was appended", async () => {
  const { wakeups, queued } = wakeupsUnder(testPrefix(), targets);
  wakeups.wake();
  await wakeups.flush();
  expect(await queued()).toEqual(["history,orders,products"]);
});

it("coalesces: a burst of appends leaves the first round's job and one job for all the rest", async () => {
  const { wakeups, queued } = wakeupsUnder(testPrefix(), targets);
  for (let i = 0; i < 50; i++) wakeups.wake(i % 2 ? ["OrderPlaced"] : ["StockReserved"]);
  await wakeups.flush();
  expect(await queued()).toEqual(["history,orders,products", "history,products"]);
});

it("deduplicates: a round that wakes the same projections as a waiting job adds nothing", async () => {
  const { wakeups, queued } = wakeupsUnder(testPrefix(), targets);
  wakeups.wake(["StockReserved"]);
  await wakeups.flush();
  wakeups.wake(["StockReserved"]);
  await wakeups.flush();
  expect(await queued()).toEqual(["history,products"]);
});

/**
 * A started projector of "reds" and "blues" over a database of its own, for the tests of one describe. The
 * catch-up tick runs once at start, then not within the tests: only wake-ups can deliver.
 */
function projectorFixture(options: { batchSize?: number } = {}): () => { db: TestDatabase; keys: ReadModelKeys } {
  let started: { db: TestDatabase; keys: ReadModelKeys; projector: Projector } | null = null;
  beforeAll(async () => {
    const db = await createTestDatabase();
    const keys = new ReadModelKeys(testPrefix());
    prefixes.push(keys.prefix);
    const projector = new Projector(
      { store: db.store, redisUrl: TEST_REDIS_URL, keys, projections: [counter("reds", "Red"), counter("blues", "Blue")], log: silentLogger() },
      { catchUpEveryMs: 600_000, ...options },
    );
    await projector.start();
    await new Promise((r) => setTimeout(r, 300)); // the start's catch-up has drained the empty log before a test appends
    started = { db, keys, projector };
  });
  afterAll(async () => {
    await started?.projector.stop();
    await started?.db.drop();
  });
  return () => {
    if (!started) throw new Error("the projector did not start");
    return started;
  };
}

describe("with a projector", () => {
  const fixture = projectorFixture({ batchSize: 5 });

  it("a coalesced wake-up still drains every append before it, and a projection reading none of them is not moved", async () => {
    const { db, keys } = fixture();
    const wakeups = new ProjectorWakeups(redis, keys.prefix, [{ name: "reds", eventTypes: ["Red"] }, { name: "blues", eventTypes: ["Blue"] }]);
    opened.push(wakeups);
    // Concurrent appends, then one wake-up for each in a burst: most of them coalesce into few jobs.
    const appended = await Promise.all(
      Array.from({ length: 40 }, (_, i) => db.store.append(`s-${i % 4}`, "any", [{ type: "Red", data: {}, metadata: meta }])),
    );
    // The wake-ups go out once the appends are visible to the log reader. A transaction held open elsewhere on the
    // shared server (another test's frozen service) would otherwise hide them from the drain, and the catch-up
    // tick that would find them later is off here: the test would measure the neighbour, not the coalescing.
    await waitForLogVisible(db);
    for (const result of appended) wakeups.wake(result.eventTypes);
    await wakeups.flush();
    const reds = keys.generation("reds", FIRST_GENERATION);
    let docs: Array<string | null> = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      docs = await redis.mget(reds.doc("s-0"), reds.doc("s-1"), reds.doc("s-2"), reds.doc("s-3"));
      if (docs.every((d) => d && JSON.parse(d).n === 10)) break;
    }
    expect(docs.map((d) => (d ? JSON.parse(d).n : null))).toEqual([10, 10, 10, 10]);
    // "blues" reads none of these types: never woken, its checkpoint stays where the start left it.
    expect(await redis.get(keys.generation("blues", FIRST_GENERATION).checkpoint)).toBeNull();
  });

  it("appends woken one by one by several writers are all projected with the tick off: a drain stops at the head, later wake-ups bring the rest", async () => {
    const { db, keys } = fixture();
    const wakeups = new ProjectorWakeups(redis, keys.prefix, [{ name: "reds", eventTypes: ["Red"] }]);
    opened.push(wakeups);
    // Each writer wakes after each of its appends once it is visible, as a service does; the tick that would
    // cover a drain stopping short is off.
    await Promise.all(
      [0, 1, 2].map(async (writer) => {
        for (let i = 0; i < 10; i++) {
          const result = await db.store.append(`late-${writer}`, "any", [{ type: "Red", data: {}, metadata: meta }]);
          await waitForLogVisible(db);
          wakeups.wake(result.eventTypes);
        }
      }),
    );
    await wakeups.flush();
    const reds = keys.generation("reds", FIRST_GENERATION);
    const counts = async () => (await redis.mget(reds.doc("late-0"), reds.doc("late-1"), reds.doc("late-2"))).map((d) => (d ? JSON.parse(d).n : null));
    let seen = await counts();
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && seen.some((n) => n !== 10); await new Promise((r) => setTimeout(r, 50))) {
      seen = await counts();
    }
    expect(seen).toEqual([10, 10, 10]);
  });
});

describe("a round's projections, drained together", () => {
  const fixture = projectorFixture();

  it("one wake-up job drains every projection it names, and they read their shared batch from the log once", async () => {
    const { db, keys } = fixture();
    const wakeups = new ProjectorWakeups(redis, keys.prefix, [{ name: "reds", eventTypes: ["Red"] }, { name: "blues", eventTypes: ["Blue"] }]);
    opened.push(wakeups);
    const appended = await db.store.append("mixed", "any", [{ type: "Red", data: {}, metadata: meta }, { type: "Blue", data: {}, metadata: meta }]);
    await waitForLogVisible(db);
    const reads = jest.spyOn(db.store, "readAll");
    try {
      wakeups.wake(appended.eventTypes);
      await wakeups.flush();
      const docs = async () => (await redis.mget(keys.generation("reds", FIRST_GENERATION).doc("mixed"), keys.generation("blues", FIRST_GENERATION).doc("mixed"))).map((d) => (d ? JSON.parse(d).n : null));
      let seen = await docs();
      for (const deadline = Date.now() + 15_000; Date.now() < deadline && seen.some((n) => n !== 1); await new Promise((r) => setTimeout(r, 50))) seen = await docs();
      expect(seen).toEqual([1, 1]);
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      reads.mockRestore();
    }
  });

  it("a job in the form earlier versions queued (one projection) still drains it", async () => {
    const { db, keys } = fixture();
    await db.store.append("legacy", "any", [{ type: "Red", data: {}, metadata: meta }]);
    await waitForLogVisible(db);
    const queue = new Queue<DrainJobData>(PROJECTOR_QUEUE, { connection: redis, prefix: bullPrefix(keys.prefix, PROJECTOR_QUEUE) });
    opened.push(queue);
    await queue.add(DRAIN_JOB, { projection: "reds" });
    const doc = keys.generation("reds", FIRST_GENERATION).doc("legacy");
    let seen = await redis.get(doc);
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && seen === null; await new Promise((r) => setTimeout(r, 50))) seen = await redis.get(doc);
    expect(seen === null ? null : JSON.parse(seen).n).toBe(1);
  });
});
