import { isDeepStrictEqual } from "node:util";
import { createTestDatabase, type TestDatabase } from "../../../test/support/testEnv";
import type { InventoryCommand } from "../../services/inventory/commands";
import { productDecider, productStreamId } from "../../services/inventory/decider";
import type { InventoryEvent } from "../../services/inventory/events";
import { EventStore } from "../eventstore/eventStore";
import type { RecordedEvent } from "../eventstore/types";
import { CommandHandler } from "./commandHandler";
import { type Add, type Added, counterDecider } from "../../../test/support/counterDecider";

const counter = counterDecider;

/** Counts every read of a stream (from the start, from a snapshot, or a range of it). */
class CountingStore extends EventStore {
  reads = 0;
  override readStream(...args: Parameters<EventStore["readStream"]>): Promise<RecordedEvent[]> {
    this.reads++;
    return super.readStream(...args);
  }
  override readStreamFromSnapshot(...args: Parameters<EventStore["readStreamFromSnapshot"]>): ReturnType<EventStore["readStreamFromSnapshot"]> {
    this.reads++;
    return super.readStreamFromSnapshot(...args);
  }
}

let db: TestDatabase;
let store: CountingStore;
beforeAll(async () => {
  db = await createTestDatabase();
  store = new CountingStore(db.pool);
});
afterAll(() => db.drop());

const ctx = (commandId: string) => ({ commandId, actor: "test" });
const add = (amount: number): Add => ({ type: "Add", amount });
const totals = async (streamId: string) => (await db.store.readStream(streamId)).map((e) => (e.data as Added["data"]).total);

it("a command on a stream it just wrote decides on the cached state and reads no stream", async () => {
  const handler = new CommandHandler(store, counter);
  await handler.handle("hit", add(1), ctx("hit-1"));
  const before = store.reads;
  const outcomes = [];
  for (let i = 2; i <= 5; i++) outcomes.push(await handler.handle("hit", add(1), ctx(`hit-${i}`)));
  expect(store.reads).toBe(before);
  expect(outcomes.map((o) => o.streamVersion)).toEqual([2, 3, 4, 5]);
  expect(await totals("hit")).toEqual([1, 2, 3, 4, 5]);
});

it("after another handler (another process) appends, the next command sees it: decided on fresh state, no lost update", async () => {
  const a = new CommandHandler(store, counter, { maxAttempts: 1 }); // a stale cache must not spend the only attempt
  const b = new CommandHandler(db.store, counter);
  await a.handle("shared", add(1), ctx("shared-a1"));
  await b.handle("shared", add(10), ctx("shared-b1"));
  await b.handle("shared", add(10), ctx("shared-b2"));
  const outcome = await a.handle("shared", add(100), ctx("shared-a2"));
  expect(outcome).toMatchObject({ streamVersion: 4, events: [{ data: { total: 121 } }] });
  expect(await totals("shared")).toEqual([1, 11, 21, 121]);
  // Caught up and cached again: the next command reads nothing.
  const before = store.reads;
  await a.handle("shared", add(1000 - 121), ctx("shared-a3"));
  expect(store.reads).toBe(before);
  await expect(a.handle("shared", add(1), ctx("shared-a4"))).rejects.toMatchObject({ code: "LIMIT" }); // the limit saw b's writes too
  expect(await totals("shared")).toEqual([1, 11, 21, 121, 1000]);
});

it("a refused command leaves the cached state as it was, and a resent one still answers with its first outcome", async () => {
  const handler = new CommandHandler(store, counter);
  const first = await handler.handle("refuse", add(600), ctx("refuse-1"));
  const before = store.reads;
  await expect(handler.handle("refuse", add(600), ctx("refuse-2"))).rejects.toMatchObject({ code: "LIMIT" });
  expect(await handler.handle("refuse", add(600), ctx("refuse-1"))).toMatchObject({ duplicate: true, streamVersion: first.streamVersion, events: [] });
  expect(await handler.handle("refuse", add(400), ctx("refuse-3"))).toMatchObject({ streamVersion: 2, events: [{ data: { total: 1000 } }] });
  expect(store.reads).toBe(before);
});

it("keeps at most cacheStreams streams, the least recently used going first; 0 keeps none", async () => {
  const handler = new CommandHandler(store, counter, { cacheStreams: 2 });
  for (const s of ["lru-1", "lru-2", "lru-3"]) await handler.handle(s, add(1), ctx(`${s}-a`));
  let before = store.reads;
  await handler.handle("lru-3", add(1), ctx("lru-3-b"));
  await handler.handle("lru-2", add(1), ctx("lru-2-b"));
  expect(store.reads).toBe(before);
  await handler.handle("lru-1", add(1), ctx("lru-1-b")); // evicted by lru-3
  expect(store.reads).toBe(before + 1);

  const none = new CommandHandler(store, counter, { cacheStreams: 0 });
  before = store.reads;
  for (let i = 0; i < 3; i++) await none.handle("uncached", add(1), ctx(`uncached-${i}`));
  expect(store.reads).toBe(before + 3);
  expect(await totals("uncached")).toEqual([1, 2, 3]);
});

it("snapshots taken from a cached state updated in place equal a fold from the start", async () => {
  const sku = "CACHED-001";
  const stream = productStreamId(sku);
  // One command per append (no group commit), so that snapshots fall at 5 and 10 while later commands go on.
  const handler = new CommandHandler(db.store, productDecider, { snapshotEvery: 5, maxGroup: 1 });
  const run = (command: InventoryCommand, id: string) => handler.handle(stream, command, ctx(id));
  await run({ type: "DefineProduct", sku, name: "Cached", priceMinor: 100, currency: "EUR", initialStock: 100 }, "def");
  // Back to back, so later commands update the state while earlier snapshots are still being written.
  await Promise.all(Array.from({ length: 13 }, (_, i) => run({ type: "ReserveStock", sku, orderId: `o-${i}`, quantity: 1 }, `r-${i}`)));
  await handler.snapshotsSettled();
  const snapshot = await db.store.snapshots.find(stream);
  expect(snapshot?.streamVersion).toBe(10); // the cached state counts from the snapshot it took at 5
  const full = await new CommandHandler(db.store, productDecider, { snapshotEvery: 0 }).load(stream);
  let atTen = structuredClone(productDecider.initialState);
  for (const e of full.events.slice(0, 10)) atTen = productDecider.evolve(atTen, e as unknown as InventoryEvent);
  expect(isDeepStrictEqual(snapshot?.state, atTen)).toBe(true);
  const viaSnapshot = await new CommandHandler(db.store, productDecider, { snapshotEvery: 5 }).load(stream);
  expect(viaSnapshot).toMatchObject({ snapshotVersion: 10, version: 14 });
  expect(isDeepStrictEqual(viaSnapshot.state, full.state)).toBe(true);
});
