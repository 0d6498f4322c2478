import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  CorrelationDocument,
  DefineProductDocument,
  OpenAccountDocument,
  OrderAsOfDocument,
  OrderAuditTrailDocument,
  OrderDocument,
  OrderStatesDocument,
  PastEntitiesDocument,
  PlaceOrderDocument,
  ProductDocument,
  ShipOrderDocument,
  type CorrelationQuery,
  type OrderAuditTrailQuery,
} from "./graphql/generated";
import { collect, execute, post, request, wsClient } from "./support/graphqlClient";
import { readModelsMatchLog } from "./support/invariants";
import { eventually, startSystem, type RunningSystem } from "./support/system";
import { untilSubscribed } from "./support/testEnv";

/**
 * History and time travel across real processes: an order placed through the
 * checkout saga, its audit trail, its past states, and everything its request
 * caused in every service.
 */
const ROLES = ["api", "projector", "saga", "inventory", "ordering", "payments"];
const ORDER = "order-h1";
const PLACE_COMMAND = "history-place-1";
let system: RunningSystem;
/** Live documents the projector published after each of the order's events, in order. */
let liveStates: Array<{ eventType: string; order: Record<string, unknown> }> = [];
let placedPosition = "";

beforeAll(async () => {
  system = await startSystem(ROLES);
  await request(system.url, DefineProductDocument, { input: { sku: "TEA", name: "tea", priceMinor: 1250, currency: "EUR", initialStock: 10 } });
  const defined = await request(system.url, DefineProductDocument, { input: { sku: "MUG", name: "mug", priceMinor: 900, currency: "EUR", initialStock: 5 } });
  await request(system.url, OpenAccountDocument, { customerId: "grace", currency: "EUR", initialBalanceMinor: 10_000 });
  await request(system.url, ProductDocument, { id: "MUG", waitFor: defined.defineProduct.position }); // the catalog prices the order

  const client = wsClient(system.url.replace(/^http/, "ws"));
  const states = collect(client, OrderStatesDocument, { id: ORDER });
  await untilSubscribed(system.redis, system.prefix, `order:${ORDER}`);
  const placed = await request(system.url, PlaceOrderDocument, {
    input: { orderId: ORDER, customerId: "grace", lines: [{ sku: "TEA", quantity: 2 }, { sku: "MUG", quantity: 1 }] },
    commandId: PLACE_COMMAND,
  });
  placedPosition = placed.placeOrder.position!;
  liveStates = (await states.until(2, 30_000)).map((s) => ({ eventType: s.orderStatusChanged.eventType, order: s.orderStatusChanged.order! }));
  states.stop();
  await client.dispose();
}, 120_000);

afterAll(async () => {
  const codes = await system.shutdown();
  expect(codes.every((c) => c === 0)).toBe(true);
});

/** Waits until the history read model has every event of the order, then returns its trail page by page. */
async function trailPages(first: number): Promise<Array<NonNullable<OrderAuditTrailQuery["order"]>["auditTrail"]>> {
  await eventually(async () => {
    const { order } = await request(system.url, OrderAuditTrailDocument, { id: ORDER, first: 1 });
    return order && order.auditTrail.totalCount === order.version;
  }, "the order's history");
  const pages = [];
  let after: string | null = null;
  for (;;) {
    const result: OrderAuditTrailQuery = await request(system.url, OrderAuditTrailDocument, { id: ORDER, first, after });
    pages.push(result.order!.auditTrail);
    if (!result.order!.auditTrail.pageInfo.hasNextPage) return pages;
    after = result.order!.auditTrail.pageInfo.endCursor!;
  }
}

it("the projector published the order's states as the saga moved it", () => {
  expect(liveStates.map((s) => [s.eventType, s.order.status])).toEqual([["OrderPlaced", "PENDING"], ["OrderConfirmed", "CONFIRMED"]]);
});

it("an order's audit trail: its events in order, with metadata, one page at a time", async () => {
  const pages = await trailPages(1);
  expect(pages.map((p) => [p.edges.length, p.pageInfo.hasNextPage, p.totalCount])).toEqual([[1, true, 2], [1, false, 2]]);
  const events = pages.flatMap((p) => p.edges.map((e) => e.node));
  const stream = events[0]!.streamId;
  expect(stream).toContain(ORDER);
  expect(events.map((e) => [e.type, e.streamId, e.streamVersion])).toEqual([["OrderPlaced", stream, 1], ["OrderConfirmed", stream, 2]]);
  expect(events[0]).toMatchObject({
    position: placedPosition,
    schemaVersion: 1,
    data: { orderId: ORDER, customerId: "grace", totalMinor: 2 * 1250 + 900, currency: "EUR" },
    metadata: { correlationId: PLACE_COMMAND, causationId: PLACE_COMMAND, commandId: PLACE_COMMAND, actor: "dev" },
  });
  // The saga confirmed it, on behalf of the same request.
  expect(events[1]!.metadata).toMatchObject({ correlationId: PLACE_COMMAND, actor: "saga:checkout", commandId: `saga.checkout-${ORDER}/confirm` });
  expect(events.map((e) => e.recordedAt)).toEqual(events.map((e) => e.metadata.recordedAt));

  // A page of the whole trail says the same.
  const [whole] = await trailPages(100);
  expect(whole!.edges.map((e) => e.node)).toEqual(events);
});

it("order(asOf: {version}) is the state the projector had after that event", async () => {
  await trailPages(100);
  for (const [i, live] of liveStates.entries()) {
    const { order } = await request(system.url, OrderAsOfDocument, { id: ORDER, asOf: { version: i + 1 } });
    const { auditTrail, ...state } = order!;
    expect(state).toEqual(live.order);
    expect(auditTrail.edges.map((e) => e.node.type)).toEqual(liveStates.slice(0, i + 1).map((s) => s.eventType)); // its past only
  }
});

it("order(asOf: {at}) is the state at that moment", async () => {
  const [page] = await trailPages(100);
  const [placedAt, confirmedAt] = page!.edges.map((e) => Date.parse(e.node.recordedAt));
  expect(confirmedAt!).toBeGreaterThan(placedAt!); // the saga's three steps lie between them
  const at = async (ms: number) => (await request(system.url, OrderAsOfDocument, { id: ORDER, asOf: { at: new Date(ms).toISOString() } })).order;

  expect(await at(placedAt! - 1)).toBeNull(); // not placed yet
  const between = await at(placedAt! + Math.floor((confirmedAt! - placedAt!) / 2));
  expect(between && { ...between, auditTrail: undefined }).toEqual({ ...liveStates[0]!.order, auditTrail: undefined });
  expect((await at(confirmedAt!))?.status).toBe("CONFIRMED");
  expect((await at(Date.now() + 60_000))?.version).toBe(2);
});

it("correlation(id): everything the placeOrder request caused, across services, in commit order", async () => {
  await trailPages(100);
  const allPages = async () => {
    const nodes: NonNullable<CorrelationQuery["correlation"]>["edges"][number]["node"][] = [];
    let after: string | null = null;
    for (;;) {
      const result: CorrelationQuery = await request(system.url, CorrelationDocument, { id: PLACE_COMMAND, first: 4, after, waitFor: placedPosition });
      nodes.push(...result.correlation.edges.map((e) => e.node));
      if (!result.correlation.pageInfo.hasNextPage) return nodes;
      after = result.correlation.pageInfo.endCursor;
    }
  };
  // The saga records its end after the order is confirmed; the history has it once the projector does.
  const nodes = await eventually(async () => {
    const found = await allPages();
    return found.some((n) => n.type === "SagaFinished") && found;
  }, "the saga's end in the correlation");
  expect(nodes.every((n) => n.metadata.correlationId === PLACE_COMMAND)).toBe(true);
  const types = nodes.map((n) => n.type);
  for (const type of ["OrderPlaced", "SagaStarted", "StockReserved", "PaymentAuthorized", "OrderConfirmed", "SagaFinished"]) expect(types).toContain(type);
  expect(types.filter((t) => t === "StockReserved")).toHaveLength(2);
  expect(types[0]).toBe("OrderPlaced");
  expect(types.indexOf("OrderConfirmed")).toBeGreaterThan(types.indexOf("PaymentAuthorized"));
  const streams = new Set(nodes.map((n) => n.streamId));
  expect([...streams].filter((s) => s.includes("TEA") || s.includes("MUG"))).toHaveLength(2); // inventory
  expect([...streams].some((s) => s.includes("grace"))).toBe(true); // payments
  expect(streams).toContain(`saga.checkout-${ORDER}`); // the saga
  // The request itself, the saga's own records, and the commands the saga sent.
  expect(new Set(nodes.map((n) => n.metadata.actor))).toEqual(new Set(["dev", "saga-runner", "saga:checkout"]));
  // Commit order: positions ascend, comparing (transaction, position) numerically.
  const keys = nodes.map((n) => n.position.split(".").map((p) => p.padStart(20, "0")).join("."));
  expect([...keys].sort()).toEqual(keys);
});

it("choreography keeps the correlation: shipping's reactions carry the ship request's id", async () => {
  const shipped = await request(system.url, ShipOrderDocument, { orderId: ORDER, commandId: "history-ship-1" });
  expect(shipped.markOrderShipped.commandId).toBe("history-ship-1");
  const edges = await eventually(async () => {
    const { correlation } = await request(system.url, CorrelationDocument, { id: "history-ship-1", first: 100, waitFor: shipped.markOrderShipped.position });
    const seen = correlation.edges.map((e) => e.node.type);
    return seen.includes("PaymentCaptured") && seen.filter((t) => t === "StockReservationCommitted").length === 2 ? correlation.edges : null;
  }, "the reactions to OrderShipped");
  const [ship, ...reactions] = edges.map((e) => e.node);
  expect(ship).toMatchObject({ type: "OrderShipped", position: shipped.markOrderShipped.position, metadata: { actor: "dev", commandId: "history-ship-1" } });
  expect(reactions.map((r) => r.type).sort()).toEqual(["PaymentCaptured", "StockReservationCommitted", "StockReservationCommitted"]);
  expect(reactions.every((r) => r.metadata.causationId === ship!.eventId && r.metadata.actor.startsWith("reactor:"))).toBe(true);
});

it("product, account and saga travel in time too", async () => {
  const { product, account, saga } = await request(system.url, PastEntitiesDocument, {
    sku: "TEA",
    customerId: "grace",
    sagaId: `saga.checkout-${ORDER}`,
    asOf: { version: 1 },
  });
  expect(product).toMatchObject({ sku: "TEA", available: 10, reserved: 0, version: 1, auditTrail: { totalCount: 1 } });
  expect(account).toMatchObject({ availableMinor: 10_000, heldMinor: 0, version: 1, auditTrail: { totalCount: 1 } });
  expect(saga).toMatchObject({ status: "RUNNING", version: 1, auditTrail: { totalCount: 1, edges: [{ node: { type: "SagaStarted", metadata: { actor: "saga-runner" } } }] } });
});

it("bad input gets typed errors naming the field", async () => {
  const codeOf = async (variables: Parameters<typeof execute<unknown, { id: string; asOf: unknown }>>[2]) => {
    const result = await execute(system.url, OrderAsOfDocument, variables as never);
    expect(result.data?.order ?? null).toBeNull();
    const error = result.errors?.[0];
    return { code: error?.extensions?.code, field: error?.extensions?.field };
  };
  expect(await codeOf({ id: "order-nope", asOf: { version: 1 } })).toEqual({ code: "NOT_FOUND", field: undefined });
  expect(await codeOf({ id: ORDER, asOf: { version: 1, at: new Date().toISOString() } })).toEqual({ code: "VALIDATION", field: "asOf" });
  expect(await codeOf({ id: ORDER, asOf: {} })).toEqual({ code: "VALIDATION", field: "asOf" });
  expect(await codeOf({ id: ORDER, asOf: { version: 0 } })).toEqual({ code: "VALIDATION", field: "asOf.version" });
  expect(await codeOf({ id: ORDER, asOf: { version: 99 } })).toEqual({ code: "VALIDATION", field: "asOf.version" });
  expect(await codeOf({ id: ORDER, asOf: { at: "yesterday" } })).toEqual({ code: "BAD_USER_INPUT", field: undefined });
  const badCursor = await execute(system.url, CorrelationDocument, { id: PLACE_COMMAND, first: 1, after: "not-a-cursor" });
  expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "after" });
  const tooMany = await execute(system.url, OrderAuditTrailDocument, { id: ORDER, first: 101 });
  expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "first" });
});

/** What the tour's operations select of an event; their results are untyped, as the README is not under codegen. */
interface TourEdge {
  node: { type: string; metadata: { actor: string } };
}

it("the README tour's checkout and history steps work as written", async () => {
  const readme = await readFile(resolve(__dirname, "../README.md"), "utf8");
  const operations = new Map(
    [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => [/^\s*(?:query|mutation|subscription) (\w+)/.exec(m[1]!)![1]!, m[1]!]),
  );
  const run = async (name: string, variables: Record<string, unknown> = {}) => {
    const response = await post(system.url, { query: operations.get(name), variables });
    expect({ name, errors: response.json?.errors }).toEqual({ name, errors: undefined });
    return response.json!.data! as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const defined = await run("Define");
  await run("Product", { position: defined.defineProduct.position });
  await run("Account");
  expect((await run("Checkout")).placeOrder).toMatchObject({ orderId: "order-42" });
  await eventually(async () => (await request(system.url, OrderDocument, { id: "order-42" })).order?.status === "CONFIRMED", "order-42 confirmed");
  await run("Ship");

  const trail = await eventually(async () => {
    const { order } = await run("Trail");
    return order.auditTrail.totalCount === 3 ? order.auditTrail : null;
  }, "order-42's trail");
  expect(trail.edges.map((e: TourEdge) => [e.node.type, e.node.metadata.actor])).toEqual([
    ["OrderPlaced", "dev"],
    ["OrderConfirmed", "saga:checkout"],
    ["OrderShipped", "dev"],
  ]);
  expect(trail.edges[0].node.metadata).toMatchObject({ correlationId: "checkout-42", commandId: "checkout-42" });

  expect(await run("Past")).toEqual({
    placed: { status: "PENDING", version: 1, history: [{ status: "PENDING", eventType: "OrderPlaced" }] },
    earlier: null, // the tour's moment is before this test placed the order
  });

  const caused = (await run("Caused")).correlation;
  const types = caused.edges.map((e: TourEdge) => e.node.type);
  expect(types).toEqual(expect.arrayContaining(["OrderPlaced", "SagaStarted", "StockReserved", "PaymentAuthorized", "OrderConfirmed", "SagaFinished"]));
  expect(types).not.toContain("OrderShipped"); // shipping was another request
  expect(caused.totalCount).toBe(types.length);
});

it("the history read model equals a projection of the whole log from scratch", async () => {
  expect(await readModelsMatchLog(system.db, system.redis, system.prefix)).toEqual([]);
}, 90_000);
