import { createRedis, type RedisClient } from "../src/platform/core/redis";
import { formatLogPosition, LOG_START } from "../src/platform/eventstore/logPosition";
import type { NewEvent } from "../src/platform/eventstore/types";
import { silentLogger } from "../src/platform/observability/logger";
import { ReadModelKeys } from "../src/platform/projection/keys";
import { ProjectionRunner } from "../src/platform/projection/projectionRunner";
import { ProjectionSegments } from "../src/platform/projection/projectionSegments";
import { type Page, ReadModelStore } from "../src/platform/projection/readModelStore";
import { projectGeneration } from "../src/platform/projection/rebuild";
import type { DocumentProjection } from "../src/platform/projection/types";
import { ChangeFeeds } from "../src/platform/subscriptions/feeds";
import { orderIndex, ORDERS, ORDERS_TOPIC, ordersProjection, type OrderView } from "../projections/ordering/orders/projection";
import { eventRegistry } from "../src/registry";
import { RedisCluster } from "./support/redisCluster";
import { eventually } from "./support/system";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, waitForLogVisible, type TestDatabase } from "./support/testEnv";
import { takeChanges } from "./support/feedItems";

/**
 * The orders read model in 4 segments on a real Redis Cluster (3 masters, 3
 * replicas): every segment under its own hash tag, pages gathered across
 * masters, and a feed over sharded pub/sub, all equal to one segment on a
 * single Redis.
 */
const SEGMENTS = 4;
const meta = { correlationId: "c", causationId: "c", actor: "test" };
const definitions = [ordersProjection as DocumentProjection<unknown>];
const layout = ProjectionSegments.of(definitions, { [ORDERS]: SEGMENTS });

let cluster: RedisCluster;
let db: TestDatabase;
const opened: RedisClient[] = [];
let single: RedisClient;
let singleKeys: ReadModelKeys;

function onCluster(options: { subscriber?: boolean } = {}): RedisClient {
  const connection = createRedis({ cluster: cluster.startupNodes }, options);
  connection.on("error", () => undefined);
  opened.push(connection);
  return connection;
}

async function appendOrders(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const orderId = `o-${String(i).padStart(4, "0")}`;
    const customerId = `c-${i % 3}`;
    const placed: NewEvent = {
      type: "OrderPlaced",
      data: { orderId, customerId, lines: [{ sku: "MUG", quantity: 1, unitPriceMinor: 500, lineTotalMinor: 500 }], totalMinor: 500, currency: "EUR" },
      metadata: meta,
    };
    await db.store.append(`ordering.order-${orderId}`, "no_stream", [placed]);
    if (i % 2 === 0) await db.store.append(`ordering.order-${orderId}`, 1, [{ type: "OrderConfirmed", data: { orderId, customerId }, metadata: meta }]);
  }
  await waitForLogVisible(db);
}

async function drain(runners: Array<ProjectionRunner<unknown>>): Promise<void> {
  const idle = new Set<number>();
  while (idle.size < runners.length) {
    await Promise.all(runners.map(async (r, s) => ((await r.step()).kind === "idle" ? idle.add(s) : idle.delete(s))));
  }
}

async function allPages(store: ReadModelStore, index: string, first: number, descending: boolean) {
  const pages: Array<{ cursors: string[]; ids: string[]; hasNextPage: boolean }> = [];
  let after: string | null = null;
  for (;;) {
    const page: Page<OrderView> = await store.page<OrderView>(ORDERS, index, { first, after, descending });
    pages.push({ cursors: page.nodes.map((n) => n.cursor), ids: page.nodes.map((n) => n.node.id), hasNextPage: page.hasNextPage });
    if (!page.hasNextPage) return pages;
    after = page.endCursor;
  }
}

beforeAll(async () => {
  cluster = await RedisCluster.start();
  db = await createTestDatabase({ registry: eventRegistry });
  single = testRedis();
  singleKeys = new ReadModelKeys(testPrefix());
}, 120_000);

afterAll(async () => {
  await deleteKeys(single, singleKeys.prefix);
  await Promise.all([single, ...opened].map((c) => c.quit().catch(() => undefined)));
  await db?.drop();
  await cluster?.stop();
});

it("given K=4 on a Redis Cluster, when orders are projected, then segments spread over the masters and reads and feeds equal one segment on a single Redis", async () => {
  const keys = new ReadModelKeys(testPrefix());
  const owners = new Set<number>();
  for (let s = 0; s < SEGMENTS; s++) owners.add((await cluster.ownerOf(await cluster.slotOf(keys.projection(ORDERS, s, SEGMENTS).activeGeneration()))).port);
  expect(owners.size).toBeGreaterThan(1);

  await appendOrders(0, 60);
  const reader = onCluster();
  const subscriber = onCluster({ subscriber: true });
  const runners = layout.expand(definitions).map((p) => new ProjectionRunner(onCluster(), db.store, keys, p, { batchSize: 9, target: { kind: "active" } }));
  await eventually(async () => [reader, subscriber].every((c) => c.status === "ready"), "cluster connections ready");
  await drain(runners);
  await projectGeneration(single, db.store, singleKeys, ordersProjection, 1);

  const segmented = new ReadModelStore(reader, keys, undefined, layout);
  const reference = new ReadModelStore(single, singleKeys);
  for (const index of [orderIndex.all, orderIndex.byCustomer("c-1")]) {
    expect(await segmented.count(ORDERS, index)).toBe(await reference.count(ORDERS, index));
    for (const descending of [true, false]) expect(await allPages(segmented, index, 7, descending)).toEqual(await allPages(reference, index, 7, descending));
  }
  for (const id of ["o-0000", "o-0013", "o-0059"]) expect(await segmented.get(ORDERS, id)).toEqual(await reference.get(ORDERS, id));
  expect(formatLogPosition(await segmented.checkpoint(ORDERS))).toBe(formatLogPosition(await reference.checkpoint(ORDERS)));

  // The feed replays every segment's change log from the start, then goes live on sharded channels: one log order throughout.
  const feeds = new ChangeFeeds({
    subscriber,
    reader,
    keys,
    log: silentLogger(),
    segments: { of: (p) => layout.names(p), checkpointChannel: (s) => keys.checkpointChannel(s), checkpoint: (s) => segmented.checkpoint(s) },
  });
  const feed = await feeds.open({ projection: ORDERS, topic: ORDERS_TOPIC, after: LOG_START });
  await appendOrders(60, 80);
  await drain(runners);
  const expected = (await db.store.readAll(LOG_START, 10_000)).events.map((e) => e.eventId);
  const heard = await takeChanges(feed, expected.length);
  await feed.return?.();
  expect(heard.map((c) => c.eventId)).toEqual(expected);
}, 120_000);
