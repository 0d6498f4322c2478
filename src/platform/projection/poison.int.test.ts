import type { Redis } from "ioredis";
import { eventually } from "../../../test/support/system";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { formatLogPosition } from "../eventstore/logPosition";
import { ProjectorAdminClient } from "./admin";
import { ReadModelKeys } from "./keys";
import { Projector } from "./projector";
import { ProjectionRunner } from "./projectionRunner";
import { ReadModelStore } from "./readModelStore";
import { RATE_STALE_MS, readProjectionStatus, StatusPublisher } from "./status";
import type { DocumentProjection } from "./types";
import { silentLogger } from "../observability/logger";

/**
 * Poison events: a projection whose code throws on an event retries it a
 * bounded number of times, parks it with its error and moves on; the other
 * projections never notice. Operators retry or skip parked events.
 */
interface Count {
  n: number;
  seen: number[];
}
let fixed = false;
const attemptsAtPoison = new Map<number, number>();
const fold = (doc: Count | null, i: number): Count => ({ n: (doc?.n ?? 0) + 1, seen: [...(doc?.seen ?? []), i] });
const fragile: DocumentProjection<Count> = {
  name: "fragile",
  eventTypes: ["Ticked"],
  documentIds: (e) => [e.streamId],
  evolve: (doc, e) => {
    const { i, poison } = e.data as { i: number; poison?: boolean };
    if (poison && !fixed) {
      attemptsAtPoison.set(i, (attemptsAtPoison.get(i) ?? 0) + 1);
      throw new Error(`cannot digest tick ${i}`);
    }
    return fold(doc, i);
  },
};
const steady: DocumentProjection<Count> = {
  name: "steady",
  eventTypes: ["Ticked"],
  documentIds: (e) => [e.streamId],
  evolve: (doc, e) => fold(doc, (e.data as { i: number }).i),
};
const meta = { correlationId: "c", causationId: "c", actor: "test" };

let db: TestDatabase;
let redis: Redis;
let eventsConnection: Redis;
let keys: ReadModelKeys;
let readModels: ReadModelStore;
let projector: Projector;
let admin: ProjectorAdminClient;

const tick = (i: number, poison = false) => db.store.append("clock", "any", [{ type: "Ticked", data: { i, ...(poison ? { poison } : {}) }, metadata: meta }]);
const eventIdOf = async (i: number) =>
  (await db.pool.query<{ event_id: string }>("SELECT event_id FROM events WHERE (data->>'i')::int = $1", [i])).rows[0]!.event_id;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  eventsConnection = testRedis();
  keys = new ReadModelKeys(testPrefix());
  readModels = new ReadModelStore(redis, keys);
  projector = new Projector(
    { store: db.store, redisUrl: TEST_REDIS_URL, keys, projections: [fragile, steady] as DocumentProjection<unknown>[], log: silentLogger() },
    { catchUpEveryMs: 100, batchSize: 4, maxEventAttempts: 3 },
  );
  await projector.start();
  admin = new ProjectorAdminClient(redis, eventsConnection, keys.prefix, 20_000);
});

afterAll(async () => {
  await admin.close();
  await projector.stop();
  await deleteKeys(redis, keys.prefix);
  await Promise.all([redis.quit(), eventsConnection.quit()]);
  await db.drop();
});

it("parks a poison event after the allowed attempts, with its error, and projects past it; the other projection keeps going", async () => {
  for (const i of range(1, 10)) await tick(i, i === 6);
  await waitForLogVisible(db);
  const status = await eventually(async () => {
    const s = await readProjectionStatus(redis, keys, "fragile");
    return s.parked.length === 1 && (await readModels.get<Count>("fragile", "clock"))?.n === 9 ? s : null;
  }, "the poison event to be parked");
  expect(attemptsAtPoison.get(6)).toBe(3);
  expect(status.parked[0]).toMatchObject({ eventId: await eventIdOf(6), type: "Ticked", streamId: "clock", attempts: 3, error: "cannot digest tick 6" });
  expect(status.lastError).toContain("cannot digest tick 6");
  expect((await readModels.get<Count>("fragile", "clock"))!.seen).toEqual([1, 2, 3, 4, 5, 7, 8, 9, 10]);
  expect(await readModels.get<Count>("steady", "clock")).toEqual({ n: 10, seen: range(1, 10) });
  expect(formatLogPosition(await readModels.checkpoint("fragile"))).toBe(formatLogPosition(await readModels.checkpoint("steady")));
  // Attempts of an event are forgotten once it is parked.
  expect(await redis.exists(keys.generation("fragile", 1).attempts)).toBe(0);
});

it("publishes status: head of the log from PostgreSQL, lag, rate and parked events", async () => {
  const head = formatLogPosition(await readModels.checkpoint("steady"));
  const status = await eventually(async () => {
    const s = await readProjectionStatus(redis, keys, "steady");
    return s.head === head && s.lagEvents === 0 ? s : null;
  }, "steady's status to show it caught up");
  expect(status).toMatchObject({ name: "steady", activeGeneration: 1, checkpoint: head, lagMs: 0, parked: [], skipped: [], rebuild: null, lastError: null });
  expect(status.eventsPerSecond).toEqual(expect.any(Number));
  expect(Date.parse(status.statusUpdatedAt!)).toBeGreaterThan(Date.now() - 60_000);

  // A projection no projector has run is behind by the whole log, and by the age of its first event.
  await new StatusPublisher(redis, db.store, keys).publish("never-run", true);
  const behind = await readProjectionStatus(redis, keys, "never-run");
  const { rows } = await db.pool.query<{ n: number; first: string }>(
    "SELECT count(*)::int AS n, min(metadata->>'recordedAt') AS first FROM events",
  );
  expect(behind).toMatchObject({ head, checkpoint: "0.0", lagEvents: rows[0]!.n });
  expect(behind.lagMs).toBeGreaterThanOrEqual(Date.now() - Date.parse(rows[0]!.first) - 60_000);
  expect(behind.lagMs).toBeGreaterThan(0);
});

it("with N replicas each publishes its own rate: an idle replica does not overwrite the busy one's, and a stopped one drops out", async () => {
  const busy = new StatusPublisher(redis, db.store, keys, 0, "busy");
  const idle = new StatusPublisher(redis, db.store, keys, 0, "idle");
  busy.recordApplied("replicated", 50_000);
  await busy.publish("replicated", true);
  await idle.publish("replicated", true); // published last, with nothing applied
  const rate = (await readProjectionStatus(redis, keys, "replicated")).eventsPerSecond;
  expect(rate).toBeGreaterThan(0);

  // A replica gone for longer than RATE_STALE_MS no longer counts, and the next publication removes its fields.
  await redis.hset(keys.status("replicated"), "rate:gone", 1_000_000, "rateAt:gone", Date.now() - RATE_STALE_MS - 1);
  expect((await readProjectionStatus(redis, keys, "replicated")).eventsPerSecond).toBe(rate);
  await idle.publish("replicated", true);
  expect(await redis.hexists(keys.status("replicated"), "rate:gone")).toBe(0);
  expect(await redis.hexists(keys.status("replicated"), "rate:busy")).toBe(1);
});

it("retrying a parked event that still fails keeps it parked; once the code accepts it, it applies to the current document and unparks", async () => {
  const eventId = await eventIdOf(6);
  const again = await admin.send({ op: "retry", projection: "fragile", eventId, by: "ops" });
  expect(again).toEqual({ op: "retry", projection: "fragile", eventId, resolved: false, error: "cannot digest tick 6" });
  expect((await readProjectionStatus(redis, keys, "fragile")).parked).toEqual([expect.objectContaining({ eventId, attempts: 4 })]);

  fixed = true; // the projection's code is corrected
  try {
    const applied = await admin.send({ op: "retry", projection: "fragile", eventId, by: "ops" });
    expect(applied).toMatchObject({ resolved: true, error: null });
  } finally {
    fixed = false;
  }
  expect((await readProjectionStatus(redis, keys, "fragile")).parked).toEqual([]);
  // Re-applied on top of the document as it is now.
  expect(await readModels.get<Count>("fragile", "clock")).toEqual({ n: 10, seen: [1, 2, 3, 4, 5, 7, 8, 9, 10, 6] });
  await expect(admin.send({ op: "retry", projection: "fragile", eventId, by: "ops" })).rejects.toMatchObject({ code: "NOT_FOUND" });
});

it("skipping a parked event drops it, records who skipped it, and leaves the document without it", async () => {
  for (const i of range(11, 14)) await tick(i, i === 12);
  const eventId = await eventIdOf(12);
  await eventually(async () => (await readProjectionStatus(redis, keys, "fragile")).parked.some((p) => p.eventId === eventId), "tick 12 to be parked");
  await eventually(async () => (await readModels.get<Count>("fragile", "clock"))?.n === 13, "fragile to project past tick 12");

  expect(await admin.send({ op: "skip", projection: "fragile", eventId, by: "ops" })).toMatchObject({ op: "skip", resolved: true });
  expect((await readProjectionStatus(redis, keys, "fragile")).parked).toEqual([]);
  const { skipped } = await readProjectionStatus(redis, keys, "fragile");
  expect(skipped).toEqual([expect.objectContaining({ eventId, skippedBy: "ops", error: "cannot digest tick 12", type: "Ticked" })]);
  expect(skipped[0]).not.toHaveProperty("event");
  expect((await readModels.get<Count>("fragile", "clock"))!.seen).not.toContain(12);
  await expect(admin.send({ op: "skip", projection: "fragile", eventId, by: "ops" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  await expect(admin.send({ op: "skip", projection: "nope", eventId, by: "ops" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  expect(await readModels.get<Count>("steady", "clock")).toMatchObject({ n: 14 });
});

it("while an event is retried, the events before it are committed; a failure in `indexes` is pinned on the event that caused it", async () => {
  const connection = testRedis();
  try {
    const badIndex: DocumentProjection<Count> = {
      ...steady,
      name: "bad-index",
      indexes: (doc) => {
        if (doc.seen.includes(3)) throw new Error("no index for tick 3");
        return [{ index: "all", member: `${doc.n}` }];
      },
    };
    const runner = new ProjectionRunner(connection, db.store, keys, badIndex, { batchSize: 100, target: { kind: "active" }, maxEventAttempts: 2 });
    await expect(runner.step()).rejects.toMatchObject({ code: "PROJECTION_EVENT_FAILED", details: expect.objectContaining({ eventId: await eventIdOf(3), attempts: 1 }) });
    expect(await readModels.get<Count>("bad-index", "clock")).toEqual({ n: 2, seen: [1, 2] });
    expect(formatLogPosition(await runner.checkpoint())).toBe(formatLogPosition((await db.store.readAll(undefined, 2)).checkpoint));

    const step = await runner.step();
    expect(step).toMatchObject({ kind: "applied", parked: [{ eventId: await eventIdOf(3), error: "no index for tick 3" }] });
    // Tick 3 left out, so the index never sees it again and every later tick projects.
    expect((await readModels.get<Count>("bad-index", "clock"))!.seen).toEqual([1, 2, ...range(4, 14)]);
  } finally {
    await connection.quit();
  }
});
