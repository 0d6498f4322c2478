import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { print } from "graphql";
import type { Client } from "graphql-ws";
import { orderingEventTypes } from "../src/services/ordering/events";
import {
  DefineProductDocument,
  OpenAccountDocument,
  OrderChangesDocument,
  PlaceOrderDocument,
  ProductDocument,
  RestockProductDocument,
  SagaDocument,
  SagaProgressDocument,
  StockLevelsDocument,
} from "./graphql/generated";
import { request, wsClient } from "./support/graphqlClient";
import { spawnRole, type RoleProcess } from "./support/processes";
import { apolloClient, follow, followWithApollo, reconnectingClient } from "./support/resumingClients";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * Feeds that resume (GUIDE §2 rule 11). Everything runs in one `all` process
 * that takes the writes, and the subscribers use a second, api-only process
 * on a port of its own: that one is restarted and SIGKILLed while changes
 * keep flowing through the first.
 */
const STOCK_EVENTS = ["ProductDefined", "StockRestocked", "StockReserved", "StockReservationReleased", "StockReservationCommitted"];
let system: RunningSystem;
let api: RoleProcess;
let apiPort = 0;
/** The position of the last write before any subscription: every feed starts after it. */
let start = "";

beforeAll(async () => {
  system = await startSystem(["all"]);
  apiPort = await freePort();
  api = await startApi();
  const defined = await request(system.url, DefineProductDocument, { input: { sku: "TEA-001", name: "Sencha", priceMinor: 100, currency: "EUR", initialStock: 1_000_000 } });
  await request(system.url, ProductDocument, { id: "TEA-001", waitFor: defined.defineProduct.position }); // orders are priced from the catalog
  const opened = await request(system.url, OpenAccountDocument, { customerId: "ada", currency: "EUR", initialBalanceMinor: 1_000_000_000 });
  start = opened.openAccount.position!;
}, 180_000);

afterAll(async () => {
  const apiCode = await api?.stop();
  const codes = await system?.shutdown();
  expect([apiCode, ...(codes ?? [])].every((c) => c === 0)).toBe(true);
});

async function startApi(): Promise<RoleProcess> {
  const child = spawnRole("api", { ...system.env, PORT: String(apiPort) });
  await child.waitFor(/ready \(api\)/, 90_000);
  return child;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const wsUrl = () => `ws://127.0.0.1:${apiPort}/graphql`;

/** Positions of the events of `types` after `after`, in commit order, as the log has them. */
async function logPositions(types: readonly string[], after: string): Promise<string[]> {
  const { rows } = await system.db.pool.query<{ position: string }>(
    `SELECT transaction_id::text || '.' || global_position::text AS position FROM events
     WHERE type = ANY($1) ORDER BY transaction_id, global_position`,
    [types],
  );
  const [tx, pos] = after.split(".").map(BigInt) as [bigint, bigint];
  return rows
    .map((r) => r.position)
    .filter((p) => {
      const [t, g] = p.split(".").map(BigInt) as [bigint, bigint];
      return t > tx || (t === tx && g > pos);
    });
}

/** The first payload of a subscription, errors included (a connection that does not retry). */
async function firstResult(client: Client, query: string, variables: Record<string, unknown>) {
  return new Promise<{ data?: unknown; errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> }>((resolve, reject) => {
    const stop = client.subscribe({ query, variables }, { next: (result) => (stop(), resolve(result)), error: reject, complete: () => undefined });
  });
}

it("a client with graphql-ws retry (and one with Apollo Client) gets every change once, in commit order, across a restart and a crash of its API", async () => {
  // While the gate is shut the clients stay in backoff, so changes are made after the API is back too.
  let gate: Promise<void> = Promise.resolve();
  let openGate = () => undefined as void;
  const shutGate = () => (gate = new Promise<void>((resolve) => (openGate = resolve)));
  const client = reconnectingClient(wsUrl(), async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await gate;
  });
  let connections = 0;
  client.on("connected", () => void connections++);
  type Seen = { position: string; eventType: string };
  const stock: Seen[] = [];
  const orders: Seen[] = [];
  const viaApollo: Seen[] = [];
  const failures: unknown[] = [];
  const stops = [
    follow<Seen>(client, print(StockLevelsDocument), "stockLevels", start, { change: (c) => stock.push(c), failed: (e) => failures.push(e) }),
    follow<Seen>(client, print(OrderChangesDocument), "orderChanges", start, { change: (c) => orders.push(c), failed: (e) => failures.push(e) }),
  ];
  const apolloWs = reconnectingClient(wsUrl(), async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await gate;
  });
  const apollo = apolloClient(apolloWs);
  stops.push(followWithApollo<Seen>(apollo, OrderChangesDocument, "orderChanges", start, (c) => viaApollo.push(c)));

  let writing = true;
  let writes = 0;
  const writer = (async () => {
    while (writing) {
      const n = ++writes;
      await request(system.url, PlaceOrderDocument, { input: { orderId: `o-${n}`, customerId: "ada", lines: [{ sku: "TEA-001", quantity: 1 }] } });
      if (n % 3 === 0) await request(system.url, RestockProductDocument, { sku: "TEA-001", quantity: 2 });
    }
  })();
  const moreWrites = (count: number) => {
    const target = writes + count;
    return eventually(async () => writes >= target, `${count} more writes`, 60_000);
  };
  const moreChanges = (count: number) => {
    const [s, o, a] = [stock.length + count, orders.length + count, viaApollo.length + count];
    return eventually(async () => stock.length >= s && orders.length >= o && viaApollo.length >= a, "more changes on every feed", 90_000);
  };

  await moreChanges(5);
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    shutGate();
    expect(await api.stop(signal)).toBe(signal === "SIGTERM" ? 0 : null);
    await moreWrites(5); // while the API is down
    api = await startApi();
    await moreWrites(3); // while the API is back and the clients wait
    openGate();
    await moreChanges(5);
  }
  writing = false;
  await writer;

  // Every order's saga has finished: the log holds all the changes there will be.
  await eventually(async () => {
    const { rows } = await system.db.pool.query<{ open: string }>(
      "SELECT count(*) FILTER (WHERE type = 'OrderPlaced') - count(*) FILTER (WHERE type IN ('OrderConfirmed', 'OrderCancelled')) AS open FROM events",
    );
    return rows[0]!.open === "0";
  }, "every order to settle", 90_000);
  const wantStock = await logPositions(STOCK_EVENTS, start);
  const wantOrders = await logPositions(orderingEventTypes, start);
  await eventually(
    async () => stock.length >= wantStock.length && orders.length >= wantOrders.length && viaApollo.length >= wantOrders.length,
    "every change to arrive",
    60_000,
  );
  stops.forEach((stop) => stop());
  await Promise.all([client.dispose(), apolloWs.dispose()]);
  apollo.stop();

  expect(connections).toBeGreaterThanOrEqual(3); // it did lose its API twice and come back
  expect(failures).toEqual([]);
  expect(stock.map((c) => c.position)).toEqual(wantStock);
  expect(orders.map((c) => c.position)).toEqual(wantOrders);
  expect(viaApollo.map((c) => c.position)).toEqual(wantOrders);
  expect(orders.filter((c) => c.eventType === "OrderPlaced")).toHaveLength(writes);
}, 600_000);

it("refuses bad arguments with VALIDATION naming them, and an `after` past the window with RESUME_WINDOW_EXCEEDED and the oldest position", async () => {
  const client = wsClient(wsUrl());
  try {
    const codes = async (query: string, variables: Record<string, unknown> = {}) => {
      const { errors } = await firstResult(client, query, variables);
      return errors?.map((e) => [e.extensions?.code, e.extensions?.field ?? e.extensions?.oldest]);
    };
    expect(await codes('subscription { productChanged(id: "bad sku!") { position } }')).toEqual([["VALIDATION", "id"]]);
    expect(await codes('subscription { sagaProgress(id: "nope") { position } }')).toEqual([["VALIDATION", "id"]]);
    expect(await codes('subscription { orderStatusChanged(id: "no spaces please") { position } }')).toEqual([["VALIDATION", "id"]]);
    expect(await codes("subscription { orderChanges(after: \"yesterday\") { position } }")).toEqual([["VALIDATION", "after"]]);

    // The README tour's resume step, as written: the first change after the position it is given.
    const readme = await readFile(resolve(__dirname, "../README.md"), "utf8");
    const tourStep = /```graphql\n\s*(subscription StockSince[\s\S]*?)```/.exec(readme)![1]!;
    const resumed = await firstResult(client, tourStep, { after: start });
    expect(resumed.data).toEqual({ stockLevels: expect.objectContaining({ sku: "TEA-001", position: (await logPositions(STOCK_EVENTS, start))[0] }) });

    // Only the newest batch is kept: resuming from before it cannot be done without a gap.
    const log = `${system.prefix}:{products}:changes`;
    await system.redis.xtrim(log, "MAXLEN", 1);
    const fields = (await system.redis.xrange(log, "-", "+"))[0]![1];
    const oldest = fields[fields.indexOf("from") + 1];
    expect(await codes(print(StockLevelsDocument), { after: "0.0" })).toEqual([["RESUME_WINDOW_EXCEEDED", oldest]]);
  } finally {
    await client.dispose();
  }
});

it("sagaProgress sends one event per change of a checkout's status or step, none with no step between two", async () => {
  const placed = await request(system.url, PlaceOrderDocument, { input: { orderId: "saga-1", customerId: "ada", lines: [{ sku: "TEA-001", quantity: 1 }] } });
  expect(placed.placeOrder.orderId).toBe("saga-1");
  await eventually(async () => (await request(system.url, SagaDocument, { id: "saga.checkout-saga-1" })).saga?.status === "COMPLETED", "the saga to complete");

  // Replayed from the start of the log, so every event it ever sent is there.
  const client = wsClient(wsUrl());
  const seen: Array<[string, string | null]> = [];
  await new Promise<void>((resolve, reject) => {
    const stop = client.subscribe<{ sagaProgress: { status: string; currentStep: string | null } }>(
      { query: print(SagaProgressDocument), variables: { id: "saga.checkout-saga-1", after: "0.0" } },
      {
        next: ({ data, errors }) => {
          if (errors) return reject(new Error(JSON.stringify(errors)));
          seen.push([data!.sagaProgress.status, data!.sagaProgress.currentStep]);
          if (data!.sagaProgress.status !== "COMPLETED") return;
          stop();
          resolve();
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
  await client.dispose();
  expect(seen).toEqual([
    ["RUNNING", null],
    ["RUNNING", "reserve:TEA-001"],
    ["RUNNING", "authorize"],
    ["RUNNING", "confirm"],
    ["COMPLETED", null],
  ]);
});
