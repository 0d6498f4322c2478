import { createTestDatabase, type TestDatabase } from "../../../test/support/testEnv";
import { DomainError, ErrorCode } from "../core/errors";
import { CommandHandler } from "./commandHandler";
import { type Added, COUNTER_LIMIT, counterDecider } from "../../../test/support/counterDecider";

const counter = counterDecider;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const ctx = (commandId: string) => ({ commandId, actor: "test" });

async function versions(streamId: string): Promise<number[]> {
  return (await db.store.readStream(streamId)).map((e) => e.streamVersion);
}

it("two handlers racing on one stream both apply, each deciding on fresh state", async () => {
  const a = new CommandHandler(db.store, counter);
  const b = new CommandHandler(db.store, counter);
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).handle("race-1", { type: "Add", amount: 1 }, ctx(`race-1-${i}`))),
  );
  const applied = results.filter((r) => r.status === "fulfilled").length;
  const conflicts = results.filter(
    (r) => r.status === "rejected" && (r.reason as DomainError).code === ErrorCode.CONCURRENCY_CONFLICT,
  ).length;
  expect(applied + conflicts).toBe(20); // nothing failed in any other way
  const stored = await db.store.readStream("race-1");
  expect(stored.map((e) => e.streamVersion)).toEqual(Array.from({ length: applied }, (_, i) => i + 1)); // no gap, no duplicate
  expect(stored.map((e) => (e.data as { total: number }).total)).toEqual(stored.map((e) => e.streamVersion)); // each decision saw the latest state
});

it("gives up with a typed CONCURRENCY_CONFLICT once its attempts are spent", async () => {
  // One handler per writer, as in separate processes: nothing serialises them.
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) =>
      new CommandHandler(db.store, counter, { maxAttempts: 1 }).handle("race-2", { type: "Add", amount: 1 }, ctx(`race-2-${i}`)),
    ),
  );
  const rejected = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
  expect(rejected.length).toBeGreaterThan(0);
  for (const error of rejected) expect(error).toMatchObject({ code: ErrorCode.CONCURRENCY_CONFLICT });
  const fulfilled = results.filter((r) => r.status === "fulfilled").length;
  expect(await versions("race-2")).toEqual(Array.from({ length: fulfilled }, (_, i) => i + 1));
});

it("within one process, commands for a hot stream queue instead of colliding", async () => {
  const handler = new CommandHandler(db.store, counter, { maxAttempts: 1 });
  const outcomes = await Promise.all(
    Array.from({ length: 20 }, (_, i) => handler.handle("hot", { type: "Add", amount: 1 }, ctx(`hot-${i}`))),
  );
  expect(outcomes.map((o) => o.streamVersion).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
});

it("a resent command returns its first outcome and appends nothing", async () => {
  const handler = new CommandHandler(db.store, counter);
  const first = await handler.handle("idem", { type: "Add", amount: 5 }, ctx("idem-1"));
  const again = await handler.handle("idem", { type: "Add", amount: 5 }, ctx("idem-1"));
  expect(again).toMatchObject({ duplicate: true, streamVersion: first.streamVersion, position: first.position, events: [] });
  expect(await versions("idem")).toEqual([1]);
});

it("a resend whose decision would now be refused answers with its first outcome; the same id from another sender is refused", async () => {
  // No lookup by commandId before deciding (decision 0031): the refusal itself must find the first result.
  const handler = new CommandHandler(db.store, counter);
  const first = await handler.handle("idem-moved", { type: "Add", amount: 600 }, ctx("idem-moved-1"));
  const again = await handler.handle("idem-moved", { type: "Add", amount: 600 }, ctx("idem-moved-1")); // 1,200 would pass the limit
  expect(again).toMatchObject({ duplicate: true, streamVersion: first.streamVersion, position: first.position });
  await expect(handler.handle("idem-moved", { type: "Add", amount: 600 }, { commandId: "idem-moved-1", actor: "someone-else" })).rejects.toMatchObject({
    code: ErrorCode.IDEMPOTENCY_KEY_REUSED,
  });
  expect(await versions("idem-moved")).toEqual([1]);
});

it("a resend whose decision would now be empty answers with its first outcome", async () => {
  type AtLeast = { type: "AtLeast"; total: number };
  const atLeast = new CommandHandler<AtLeast, Added, number>(db.store, {
    initialState: 0,
    decide: (c, total) => (total >= c.total ? [] : [{ type: "Added", data: { amount: c.total - total, total: c.total } }]),
    evolve: counter.evolve,
  });
  const first = await atLeast.handle("idem-empty", { type: "AtLeast", total: 5 }, ctx("idem-empty-1"));
  const again = await atLeast.handle("idem-empty", { type: "AtLeast", total: 5 }, ctx("idem-empty-1"));
  expect(again).toMatchObject({ duplicate: true, streamVersion: first.streamVersion, position: first.position });
  const other = await atLeast.handle("idem-empty", { type: "AtLeast", total: 5 }, ctx("idem-empty-2"));
  expect(other).toMatchObject({ duplicate: false, position: null, events: [] }); // a new command that changes nothing
});

it("the same command sent concurrently is applied once", async () => {
  const handler = new CommandHandler(db.store, counter);
  const outcomes = await Promise.all(
    Array.from({ length: 8 }, () => handler.handle("idem-race", { type: "Add", amount: 2 }, ctx("idem-race-1"))),
  );
  expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1);
  expect(await versions("idem-race")).toEqual([1]);
});

it("a refused command appends nothing", async () => {
  const handler = new CommandHandler(db.store, counter);
  await expect(handler.handle("refused", { type: "Add", amount: COUNTER_LIMIT + 1 }, ctx("refused-1"))).rejects.toMatchObject({
    code: "LIMIT",
  });
  expect(await versions("refused")).toEqual([]);
});
