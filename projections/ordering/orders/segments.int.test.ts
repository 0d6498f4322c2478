import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { snapshotGeneration } from "../../../test/support/readModelSnapshot";
import { eventRegistry } from "../../../src/registry";
import type { NewEvent } from "../../../src/platform/eventstore/types";
import { formatLogPosition, parseLogPosition } from "../../../src/platform/eventstore/logPosition";
import { ReadModelKeys } from "../../../src/platform/projection/keys";
import { ProjectionRunner } from "../../../src/platform/projection/projectionRunner";
import { projectGeneration, Rebuild } from "../../../src/platform/projection/rebuild";
import { type Page, ReadModelStore } from "../../../src/platform/projection/readModelStore";
import { ProjectionSegments } from "../../../src/platform/projection/projectionSegments";
import { segmentOf } from "../../../src/platform/projection/segmentOf";
import type { DocumentProjection } from "../../../src/platform/projection/types";
import { ChangeFeeds, FeedFailure } from "../../../src/platform/subscriptions/feeds";
import { silentLogger } from "../../../src/platform/observability/logger";
import { orderIndex, ORDERS, ORDERS_TOPIC, ordersProjection, type OrderView } from "./projection";
import { takeChanges } from "../../../test/support/feedItems";

const SEGMENTS = 4;
const ORDER_COUNT = 120;
const CUSTOMERS = 5;
const meta = { correlationId: "c", causationId: "c", actor: "test" };

let db: TestDatabase;
let redis: Redis;
let subscriber: Redis;
const connections: Redis[] = [];
/** The reference: the same log projected as one segment. */
let single: ReadModelStore;
let segmented: ReadModelStore;
let singleKeys: ReadModelKeys;
let segmentedKeys: ReadModelKeys;
const layout = ProjectionSegments.of([ordersProjection as DocumentProjection<unknown>], { [ORDERS]: SEGMENTS });
const segments = layout.expand([ordersProjection as DocumentProjection<unknown>]);

function connection(): Redis {
  const c = testRedis();
  connections.push(c);
  return c;
}

const placed = (orderId: string, customerId: string): NewEvent => ({
  type: "OrderPlaced",
  data: { orderId, customerId, lines: [{ sku: "MUG", quantity: 1, unitPriceMinor: 500, lineTotalMinor: 500 }], totalMinor: 500, currency: "EUR" },
  metadata: meta,
});
const items = [{ sku: "MUG", quantity: 1 }];
const confirmed = (orderId: string, customerId: string): NewEvent => ({ type: "OrderConfirmed", data: { orderId, customerId }, metadata: meta });
const shipped = (orderId: string, customerId: string): NewEvent => ({ type: "OrderShipped", data: { orderId, customerId, lines: items }, metadata: meta });
const cancelled = (orderId: string, customerId: string): NewEvent => ({
  type: "OrderCancelled",
  data: { orderId, customerId, reason: "changed mind", previousStatus: "PENDING", lines: items },
  metadata: meta,
});

/** Orders of many streams, their later events interleaved with other orders' placements. Placements race, so many share a millisecond. */
async function appendOrders(from: number, to: number): Promise<void> {
  await Promise.all(
    Array.from({ length: to - from }, async (_, k) => {
      const i = from + k;
      const orderId = `o-${String(i).padStart(4, "0")}`;
      const customerId = `c-${i % CUSTOMERS}`;
      const stream = `ordering.order-${orderId}`;
      await db.store.append(stream, "no_stream", [placed(orderId, customerId)]);
      if (i % 3 === 0) await db.store.append(stream, 1, [confirmed(orderId, customerId)]);
      if (i % 6 === 0) await db.store.append(stream, 2, [shipped(orderId, customerId)]);
      if (i % 3 === 1) await db.store.append(stream, 1, [cancelled(orderId, customerId)]);
    }),
  );
  await waitForLogVisible(db);
}

/** Drains one runner per segment, interleaved, in small batches so that segment checkpoints pass each other. */
async function drainSegments(only: readonly number[] = segments.map((_, s) => s)): Promise<void> {
  const runners = only.map((s) => new ProjectionRunner(connection(), db.store, segmentedKeys, segments[s]!, { batchSize: 7, target: { kind: "active" } }));
  const idle = new Set<number>();
  while (idle.size < runners.length) {
    await Promise.all(runners.map(async (r, s) => ((await r.step()).kind === "idle" ? idle.add(s) : idle.delete(s))));
  }
}

async function allPages(store: ReadModelStore, index: string, first: number, descending: boolean) {
  const pages: Array<{ cursors: string[]; ids: string[]; hasNextPage: boolean; endCursor: string | null }> = [];
  let after: string | null = null;
  for (;;) {
    const page: Page<OrderView> = await store.page<OrderView>(ORDERS, index, { first, after, descending });
    pages.push({ cursors: page.nodes.map((n) => n.cursor), ids: page.nodes.map((n) => n.node.id), hasNextPage: page.hasNextPage, endCursor: page.endCursor });
    if (!page.hasNextPage) return pages;
    after = page.endCursor;
  }
}

beforeAll(async () => {
  db = await createTestDatabase({ registry: eventRegistry });
  redis = connection();
  subscriber = connection();
  const prefix = testPrefix();
  singleKeys = new ReadModelKeys(`${prefix}:k1`);
  segmentedKeys = new ReadModelKeys(`${prefix}:k4`);
  single = new ReadModelStore(redis, singleKeys);
  segmented = new ReadModelStore(redis, segmentedKeys, undefined, layout);
  await appendOrders(0, ORDER_COUNT);
  await projectGeneration(redis, db.store, singleKeys, ordersProjection, 1);
  await drainSegments();
});

afterAll(async () => {
  await deleteKeys(redis, singleKeys.prefix);
  await deleteKeys(redis, segmentedKeys.prefix);
  await Promise.all(connections.map((c) => c.quit()));
  await db.drop();
});

it("given K=4, when the log is projected, then every segment holds exactly the documents that route to it, and together they equal K=1", async () => {
  const reference = await snapshotGeneration(redis, singleKeys, ORDERS, 1);
  expect(Object.keys(reference.docs)).toHaveLength(ORDER_COUNT);
  const docs: Record<string, unknown> = {};
  const indexes: Record<string, string[]> = {};
  for (let s = 0; s < SEGMENTS; s++) {
    const part = await snapshotGeneration(redis, segmentedKeys, `${ORDERS}#${s}`, 1);
    const ids = Object.keys(part.docs);
    expect(ids.length).toBeGreaterThan(ORDER_COUNT / SEGMENTS / 2); // every segment has its share
    expect(ids.filter((id) => segmentOf(id, SEGMENTS) !== s)).toEqual([]);
    Object.assign(docs, part.docs);
    for (const [index, members] of Object.entries(part.indexes)) (indexes[index] ??= []).push(...members);
  }
  expect(docs).toEqual(reference.docs);
  for (const members of Object.values(indexes)) members.sort();
  for (const members of Object.values(reference.indexes)) members.sort();
  expect(indexes).toEqual(reference.indexes);
});

it("given K=4, when every index is paged both ways at several sizes, then pages and cursors equal K=1's", async () => {
  const indexes = [orderIndex.all, ...Array.from({ length: CUSTOMERS }, (_, c) => orderIndex.byCustomer(`c-${c}`)), orderIndex.byCustomer("nobody")];
  for (const index of indexes) {
    expect(await segmented.count(ORDERS, index)).toBe(await single.count(ORDERS, index));
    for (const first of [1, 3, 7, 50, 100]) {
      for (const descending of [true, false]) {
        const expected = await allPages(single, index, first, descending);
        expect(await allPages(segmented, index, first, descending)).toEqual(expected);
      }
    }
  }
  const byPlacement = await allPages(single, orderIndex.all, 100, true);
  expect(byPlacement.flatMap((p) => p.ids)).toHaveLength(ORDER_COUNT);
});

it("given K=4, when documents are read by id, then each comes from its segment and equals K=1's; the checkpoint is where every segment is", async () => {
  for (let i = 0; i < ORDER_COUNT; i += 7) {
    const id = `o-${String(i).padStart(4, "0")}`;
    const doc = await segmented.get<OrderView>(ORDERS, id);
    expect(doc).not.toBeNull();
    expect(doc).toEqual(await single.get<OrderView>(ORDERS, id));
  }
  expect(await segmented.get(ORDERS, "o-missing")).toBeNull();
  expect(formatLogPosition(await segmented.checkpoint(ORDERS))).toBe(formatLogPosition(await single.checkpoint(ORDERS)));
});

it("given a subscriber of every order, when K=4 segments project new orders, then it gets every change once in log order, and resumes from any position it saw", async () => {
  const feeds = new ChangeFeeds({ subscriber, reader: redis, keys: segmentedKeys, log: silentLogger(), segments: { of: (p) => layout.names(p), checkpointChannel: (s) => segmentedKeys.checkpointChannel(s), checkpoint: (s) => segmented.checkpoint(s) } });
  const live = await feeds.open({ projection: ORDERS, topic: ORDERS_TOPIC, after: null });
  const before = await segmented.checkpoint(ORDERS);
  await appendOrders(ORDER_COUNT, ORDER_COUNT + 40);
  const expected = (await db.store.readAll(before, 10_000)).events.filter((e) => ordersProjection.eventTypes.includes(e.type)).map((e) => e.eventId);

  // Segment 3 lags: what the others committed waits, since segment 3 may still commit an earlier change.
  await drainSegments([0, 1, 2]);
  const first = live.next();
  expect(await Promise.race([first, new Promise((resolve) => setTimeout(() => resolve("quiet"), 500))])).toBe("quiet");
  await drainSegments([3]);
  const firstItem = await first;
  if (firstItem.done || firstItem.value instanceof FeedFailure) throw new Error("the feed ended");
  const heard = [firstItem.value, ...(await takeChanges(live, expected.length - 1))];
  await live.return?.();
  expect(heard.map((c) => c.eventId)).toEqual(expected);
  expect(new Set(heard.map((c) => c.projection))).toEqual(new Set(layout.names(ORDERS)));

  // A subscriber that saw up to any change resumes from its position: the rest, in order, nothing twice.
  for (const cut of [0, 17, expected.length - 1]) {
    const resumed = await feeds.open({ projection: ORDERS, topic: ORDERS_TOPIC, after: parseLogPosition(heard[cut]!.position) });
    const rest = await takeChanges(resumed, expected.length - cut - 1);
    expect(rest.map((c) => c.eventId)).toEqual(expected.slice(cut + 1));
    expect(await takeChanges(resumed, 1, 300).catch((e: unknown) => String(e))).toMatch(/heard 0 of 1/);
    await resumed.return?.();
  }
});

it("given K=4, when one segment is rebuilt, then it switches on its own and reads still equal K=1's", async () => {
  const rebuild = await Rebuild.start(connection(), db.store, segmentedKeys, segments[2]!, { batchSize: 13, lockTtlMs: 5000, by: "test" });
  const result = await rebuild.run();
  expect(result.generation).toBe(2);
  expect(await redis.get(segmentedKeys.activeGeneration(`${ORDERS}#2`))).toBe("2");
  expect(await redis.get(segmentedKeys.activeGeneration(`${ORDERS}#1`))).toBeNull(); // the others stay where they were
  await projectGeneration(redis, db.store, singleKeys, ordersProjection, 1); // the reference catches up with the orders added since
  expect(await allPages(segmented, orderIndex.all, 9, true)).toEqual(await allPages(single, orderIndex.all, 9, true));
  expect(await segmented.count(ORDERS, orderIndex.all)).toBe(ORDER_COUNT + 40);
});

it("given a projection whose documents do not route where its events do, when a segment applies a batch, then it refuses with SEGMENT_MISROUTED and writes nothing", async () => {
  const tally: DocumentProjection<{ n: number }> = {
    name: "misrouted",
    eventTypes: ["OrderPlaced"],
    documentIds: () => ["everything"], // one document for every order: an aggregate across documents
    evolve: (doc) => ({ n: (doc?.n ?? 0) + 1 }),
    routing: {},
  };
  const parts = ProjectionSegments.of([tally as DocumentProjection<unknown>], { misrouted: SEGMENTS }).expand([tally as DocumentProjection<unknown>]);
  const home = segmentOf("everything", SEGMENTS);
  const elsewhere = parts.find((_, s) => s !== home)!;
  const runner = new ProjectionRunner(connection(), db.store, segmentedKeys, elsewhere, { batchSize: 50, target: { kind: "active" } });
  await expect(runner.step()).rejects.toMatchObject({ code: "SEGMENT_MISROUTED", details: { projection: "misrouted", id: "everything", documentSegment: home } });
  expect(await redis.get(segmentedKeys.generation(elsewhere.name, 1).checkpoint)).toBeNull();
  expect(await snapshotGeneration(redis, segmentedKeys, elsewhere.name, 1)).toEqual({ docs: {}, indexes: {} });
});

