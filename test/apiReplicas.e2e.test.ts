import { Queue } from "bullmq";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import type { Client } from "graphql-ws";
import { SALES_DASHBOARD, SALES_DASHBOARD_TOPIC } from "../projections/ordering/salesDashboard/projection";
import { bullPrefix } from "../src/platform/core/redis";
import { commandQueueName } from "../src/platform/bus/queueCommandBus";
import { parseLogPosition, type LogPosition } from "../src/platform/eventstore/logPosition";
import { parseGeneration, ReadModelKeys } from "../src/platform/projection/keys";
import { isAfter, parseChange, readBatches } from "../src/platform/subscriptions/changeLog";
import { orderingEventTypes } from "../src/services/ordering/events";
import {
  CustomerOrdersDocument,
  DefineProductDocument,
  OpenAccountDocument,
  OrderChangesDocument,
  PlaceOrderDocument,
  ProductDocument,
  ProductsDocument,
  RestockProductDocument,
  SalesDashboardDocument,
  StockLevelsDocument,
} from "./graphql/generated";
import { execute, type GraphQLResponse } from "./support/graphqlClient";
import { failoverClient, follow } from "./support/resumingClients";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * API replicas (issue 12, item 5), on one Redis and one PostgreSQL: two api
 * processes serve the same subscriptions and queries. Subscribers start on
 * either replica, with a graphql-ws client that tries the next replica on
 * every reconnect and resubscribes after its last position; writers send to
 * both. One replica is SIGKILLed mid-stream, with a mutation in flight on it.
 */
const ROLES = ["api", "projector", "saga", "inventory", "ordering", "payments"];
const REPLICAS = ["api", "api#2"] as const;
const DOOMED = "api#2";
const SKUS = ["TEA-001", "TEA-002", "TEA-003"];
const STOCK_EVENTS = ["ProductDefined", "StockRestocked", "StockReserved", "StockReservationReleased", "StockReservationCommitted"];
const DASHBOARD_QUERY = "subscription ($after: String) { salesDashboardChanged(after: $after) { position capturedRevenueMinor ordersByStatus { pending confirmed shipped cancelled } } }";

let system: RunningSystem;
/** The position of the last write before any subscription: every feed starts after it. */
let start = "";

beforeAll(async () => {
  system = await startSystem(ROLES, { COMMAND_TIMEOUT_MS: "5000" });
  await system.start(DOOMED);
  let defined: string | null = null;
  for (const sku of SKUS) defined = (await send(0, DefineProductDocument, { input: { sku, name: `Tea ${sku}`, priceMinor: 100, currency: "EUR", initialStock: 1_000_000 } })).defineProduct.position;
  await send(0, ProductDocument, { id: SKUS[SKUS.length - 1]!, waitFor: defined }); // orders are priced from the catalog
  const opened = await send(1, OpenAccountDocument, { customerId: "ada", currency: "EUR", initialBalanceMinor: 1_000_000_000 });
  start = opened.openAccount.position!;
}, 240_000);

afterAll(async () => {
  const codes = await system?.shutdown();
  expect(codes?.every((c) => c === 0)).toBe(true);
});

const httpUrls = () => REPLICAS.map((name) => system.urlOf(name));
const wsUrls = () => httpUrls().map((url) => url.replace(/^http/, "ws"));

/**
 * A client's mutation: sent to replica `first`; when that replica does not answer (dead,
 * or its reply timed out) it is resent, with the same commandId, to the next one.
 */
async function send<T, V>(first: number, document: TypedDocumentNode<T, V>, variables: V, retried?: () => void): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (attempt > 0) {
      retried?.();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = httpUrls()[(first + attempt) % REPLICAS.length]!;
    let result: GraphQLResponse<T>;
    try {
      result = await execute(url, document, variables);
    } catch (error) {
      lastError = error; // no answer: the replica is gone
      continue;
    }
    if (result.data && !result.errors?.length) return result.data;
    lastError = new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  }
  throw lastError;
}

/** Positions of the events of `types` after `start`, in commit order, as the log has them. */
async function logPositions(types: readonly string[]): Promise<string[]> {
  const { rows } = await system.db.pool.query<{ position: string }>(
    `SELECT transaction_id::text || '.' || global_position::text AS position FROM events
     WHERE type = ANY($1) ORDER BY transaction_id, global_position`,
    [types],
  );
  const after = parseLogPosition(start)!;
  return rows.map((r) => r.position).filter((p) => isAfter(parseLogPosition(p)!, after));
}

/** What the projector published on `topic` after `start`, in its change log's order. */
async function publishedPositions(projection: string, topic: string): Promise<string[]> {
  const keys = new ReadModelKeys(system.prefix);
  const channel = keys.topic(projection, topic);
  const positions: string[] = [];
  let from: LogPosition = parseLogPosition(start)!;
  for (;;) {
    const batches = await readBatches(system.redis, keys.changeLog(projection), from, 500);
    for (const batch of batches) {
      for (const change of batch.changes) if (change.channel === channel) positions.push(parseChange(change.message)!.position);
      from = batch.to;
    }
    if (batches.length < 500) return positions;
  }
}

/** Whether `projection` has applied the whole log (nothing is being written any more). */
async function caughtUp(projection: string): Promise<boolean> {
  const keys = new ReadModelKeys(system.prefix);
  const generation = parseGeneration(await system.redis.get(keys.activeGeneration(projection)));
  const checkpoint = parseLogPosition((await system.redis.get(keys.generation(projection, generation).checkpoint)) ?? "");
  const { rows } = await system.db.pool.query<{ position: string }>(
    "SELECT transaction_id::text || '.' || global_position::text AS position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
  );
  return checkpoint !== null && !isAfter(parseLogPosition(rows[0]!.position)!, checkpoint);
}

/** Whether the ordering queue holds the PlaceOrder of `orderId` (waiting, or taken by a stopped worker). */
async function queued(orderId: string): Promise<boolean> {
  const connection = system.redis.duplicate();
  const queue = new Queue(commandQueueName("ordering"), { connection, prefix: bullPrefix(system.prefix, commandQueueName("ordering")) });
  try {
    const jobs = await queue.getJobs(["waiting", "active", "prioritized"]);
    return jobs.some((job) => JSON.stringify(job.data).includes(`"orderId":"${orderId}"`));
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

type Seen = { position: string };
interface Subscriber {
  client: Client;
  first: number;
  connectedTo: string[];
  stock: Seen[];
  orders: Array<Seen & { eventType: string }>;
  dashboard: Array<Seen & { capturedRevenueMinor: number; ordersByStatus: Record<string, number> }>;
  failures: unknown[];
  stops: Array<() => void>;
}

function subscriber(first: number): Subscriber {
  const connectedTo: string[] = [];
  const client = failoverClient(wsUrls, {
    first,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 150)),
    connectedTo: (url) => connectedTo.push(url),
  });
  const s: Subscriber = { client, first, connectedTo, stock: [], orders: [], dashboard: [], failures: [], stops: [] };
  const failed = (error: unknown) => s.failures.push(error);
  s.stops.push(follow(client, print(StockLevelsDocument), "stockLevels", start, { change: (c: Seen) => s.stock.push(c), failed }));
  s.stops.push(follow(client, print(OrderChangesDocument), "orderChanges", start, { change: (c: Subscriber["orders"][number]) => s.orders.push(c), failed }));
  s.stops.push(follow(client, DASHBOARD_QUERY, "salesDashboardChanged", start, { change: (c: Subscriber["dashboard"][number]) => s.dashboard.push(c), failed }));
  return s;
}

it("subscribers on either replica get every change once, in commit order, through the SIGKILL of one; a mutation lost with it runs once when resent", async () => {
  // Two subscribers start on each replica.
  const subscribers = [0, 1, 0, 1].map(subscriber);
  const moreChanges = (count: number) => {
    const want = subscribers.map((s) => [s.stock.length + count, s.orders.length + count, s.dashboard.length + count] as const);
    return eventually(
      async () => subscribers.every((s, i) => s.stock.length >= want[i]![0] && s.orders.length >= want[i]![1] && s.dashboard.length >= want[i]![2]),
      `${count} more changes on every feed of every subscriber`,
      120_000,
    );
  };

  // Writers on each replica, each write with its own commandId.
  let writing = true;
  let retries = 0;
  const placed: string[] = [];
  const writers = [0, 1].map(async (replica) => {
    for (let n = 1; writing; n++) {
      const orderId = `w${replica}-${n}`;
      const sku = SKUS[n % SKUS.length]!;
      await send(replica, PlaceOrderDocument, { input: { orderId, customerId: "ada", lines: [{ sku, quantity: 1 }] }, commandId: `place-${orderId}` }, () => retries++);
      placed.push(orderId);
      if (n % 3 === 0) await send(replica, RestockProductDocument, { sku, quantity: 2, commandId: `restock-${orderId}` }, () => retries++);
    }
  });
  const moreWrites = (count: number) => {
    const target = placed.length + count;
    return eventually(async () => placed.length >= target, `${count} more orders placed`, 120_000);
  };

  await moreChanges(5);
  const before = wsUrls();

  // A client's mutation reaches the doomed replica, which queues it; the ordering service is
  // stopped, so no reply can come before the replica dies.
  const ordering = system.role("ordering").child;
  ordering.kill("SIGSTOP");
  let resumed = false;
  const resume = () => {
    if (!resumed) ordering.kill("SIGCONT");
    resumed = true;
  };
  let probe: { placeOrder: { orderId: string; duplicate: boolean | null } };
  try {
    const lost = execute(httpUrls()[1]!, PlaceOrderDocument, { input: { orderId: "probe", customerId: "ada", lines: [{ sku: "TEA-001", quantity: 1 }] }, commandId: "place-probe" });
    await eventually(() => queued("probe"), "the probe command to be queued by the doomed replica", 30_000, 100);
    expect(await system.stop(DOOMED, "SIGKILL")).toBeNull();
    await expect(lost).rejects.toThrow(); // its client never gets an answer
    resume();
    // The client resends it, same commandId, to the other replica.
    probe = await send(0, PlaceOrderDocument, { input: { orderId: "probe", customerId: "ada", lines: [{ sku: "TEA-001", quantity: 1 }] }, commandId: "place-probe" });
  } finally {
    resume();
  }
  expect(probe.placeOrder.orderId).toBe("probe");

  await moreWrites(6); // with one replica down: writers to it fail over
  await moreChanges(5); // subscribers of the dead replica follow from the other one
  await system.start(DOOMED); // back, on a new port
  await moreWrites(4);
  await moreChanges(5);
  writing = false;
  await Promise.all(writers);

  await eventually(async () => {
    const { rows } = await system.db.pool.query<{ open: string }>(
      "SELECT count(*) FILTER (WHERE type = 'OrderPlaced') - count(*) FILTER (WHERE type IN ('OrderConfirmed', 'OrderCancelled')) AS open FROM events",
    );
    return rows[0]!.open === "0";
  }, "every order to settle", 120_000);
  const wantStock = await logPositions(STOCK_EVENTS);
  const wantOrders = await logPositions(orderingEventTypes);
  await eventually(() => caughtUp(SALES_DASHBOARD), "the dashboard to have projected the whole log", 60_000);
  const wantDashboard = await publishedPositions(SALES_DASHBOARD, SALES_DASHBOARD_TOPIC);
  await eventually(
    async () => subscribers.every((s) => s.stock.length >= wantStock.length && s.orders.length >= wantOrders.length && s.dashboard.length >= wantDashboard.length),
    "every change to reach every subscriber",
    120_000,
  );
  for (const s of subscribers) s.stops.forEach((stop) => stop());
  await Promise.all(subscribers.map((s) => s.client.dispose()));

  // Exactly once, in commit order, on every subscriber, wherever it started.
  for (const s of subscribers) {
    expect(s.failures).toEqual([]);
    expect(s.stock.map((c) => c.position)).toEqual(wantStock);
    expect(s.orders.map((c) => c.position)).toEqual(wantOrders);
    expect(s.dashboard.map((c) => c.position)).toEqual(wantDashboard);
  }
  // Those that started on the killed replica did lose it, and went on on the other one.
  for (const s of subscribers.filter((s) => s.first === 1)) {
    expect(s.connectedTo[0]).toBe(before[1]);
    expect(s.connectedTo.length).toBeGreaterThanOrEqual(2);
    expect(s.connectedTo).toContain(before[0]);
  }

  // Every mutation ran once: those resent after the kill and the probe too.
  expect(retries).toBeGreaterThan(0);
  const { rows } = await system.db.pool.query<{ order_id: string; n: string }>(
    "SELECT data->>'orderId' AS order_id, count(*) AS n FROM events WHERE type = 'OrderPlaced' GROUP BY 1",
  );
  const counts = new Map(rows.map((r) => [r.order_id, Number(r.n)]));
  expect([...counts.keys()].sort()).toEqual([...placed, "probe"].sort());
  expect([...counts.values()].every((n) => n === 1)).toBe(true);

  // Both replicas answer queries the same, and the feeds' last payloads are what they answer.
  const answers = async (replica: number) =>
    JSON.stringify([
      await send(replica, ProductsDocument, { first: 10 }),
      await send(replica, SalesDashboardDocument, {}),
      await send(replica, CustomerOrdersDocument, { customerId: "ada", first: 100 }),
    ]);
  expect(await answers(1)).toEqual(await answers(0));
  const dashboard = (await send(1, SalesDashboardDocument, {})).salesDashboard;
  for (const s of subscribers) {
    const last = s.dashboard.at(-1)!;
    expect(last.capturedRevenueMinor).toBe(dashboard.capturedRevenueMinor);
    expect(last.ordersByStatus).toEqual(dashboard.ordersByStatus);
  }
}, 900_000);
