import { QueueCommandBus } from "../src/platform/bus/queueCommandBus";
import { createRedis } from "../src/platform/core/redis";
import {
  AccountDocument,
  CancelOrderDocument,
  DefineProductDocument,
  MarkOrderShippedDocument,
  OpenAccountDocument,
  CustomerOrdersDocument,
  OrderDocument,
  OrderStatusChangedDocument,
  PlaceOrderDocument,
  ProductDocument,
  SagaDocument,
  SalesDashboardDocument,
  type CustomerOrdersQuery,
} from "./graphql/generated";
import { collect, execute, request, wsClient } from "./support/graphqlClient";
import { moneyConservation, readModelsMatchLog, stockConservation } from "./support/invariants";
import { eventually, startSystem, type RunningSystem } from "./support/system";
import { TEST_REDIS_URL, untilSubscribed } from "./support/testEnv";

/**
 * The checkout across services, each its own process: api, projector, saga
 * runner, inventory, ordering and payments. The deadline is short so that the
 * timeout paths run in seconds.
 */
const DEADLINE_MS = 12_000; // long enough to restart a process on a loaded 2-core machine, short enough to wait out
const ROLES = ["api", "projector", "saga", "inventory", "ordering", "payments"];
let system: RunningSystem;
let orderSeq = 0;

beforeAll(async () => {
  system = await startSystem(ROLES, { SAGA_DEADLINE_MS: String(DEADLINE_MS), SAGA_STEP_TIMEOUT_MS: "1500", COMMAND_TIMEOUT_MS: "5000" });
  for (const [sku, stock, price] of [["TEA", 10, 1250], ["RARE", 1, 5000], ["MUG", 20, 900]] as const) {
    await request(system.url, DefineProductDocument, { input: { sku, name: sku.toLowerCase(), priceMinor: price, currency: "EUR", initialStock: stock } });
  }
  for (const [customerId, balance] of [["rich", 1_000_000], ["poor", 100]] as const) {
    await request(system.url, OpenAccountDocument, { customerId, currency: "EUR", initialBalanceMinor: balance });
  }
  const last = await request(system.url, DefineProductDocument, { input: { sku: "PEN", name: "pen", priceMinor: 100, currency: "EUR", initialStock: 5 } });
  await request(system.url, ProductDocument, { id: "PEN", waitFor: last.defineProduct.position }); // the catalog is projected
}, 60_000);

afterAll(async () => {
  const codes = await system.shutdown();
  expect(codes.every((c) => c === 0)).toBe(true);
});

async function place(customerId: string, lines: Array<{ sku: string; quantity: number }>) {
  const orderId = `order-${++orderSeq}`;
  await request(system.url, PlaceOrderDocument, { input: { orderId, customerId, lines } });
  return orderId;
}

async function settled(orderId: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const { order } = await request(system.url, OrderDocument, { id: orderId });
    return order && order.status !== "PENDING" ? order : null;
  }, `order ${orderId} to settle`, timeoutMs);
}

async function sagaOf(orderId: string, until: (status: string) => boolean) {
  return eventually(async () => {
    const { saga } = await request(system.url, SagaDocument, { id: `saga.checkout-${orderId}` });
    return saga && until(saga.status) ? saga : null;
  }, `saga of ${orderId}`);
}

const stock = async (sku: string) => (await request(system.url, ProductDocument, { id: sku })).product!;
const account = async (customerId: string) => (await request(system.url, AccountDocument, { customerId })).account!;

it("happy path: stock reserved, payment authorized, order confirmed", async () => {
  const client = wsClient(system.url.replace(/^http/, "ws"));
  const statuses = collect(client, OrderStatusChangedDocument, { id: `order-${orderSeq + 1}` });
  await untilSubscribed(system.redis, system.prefix, `order:order-${orderSeq + 1}`);
  const orderId = await place("rich", [{ sku: "TEA", quantity: 2 }, { sku: "MUG", quantity: 1 }]);
  expect((await statuses.until(2)).map((c) => [c.orderStatusChanged.eventType, c.orderStatusChanged.order?.status])).toEqual([
    ["OrderPlaced", "PENDING"],
    ["OrderConfirmed", "CONFIRMED"],
  ]);
  statuses.stop();
  await client.dispose();
  const order = await settled(orderId);
  expect(order.status).toBe("CONFIRMED");
  expect((await sagaOf(orderId, (s) => s === "COMPLETED")).steps.map((s) => s.step)).toEqual([
    "reserve:TEA", "reserve:MUG", "authorize", "confirm",
  ]);
  await eventually(async () => (await stock("TEA")).reserved === 2, "TEA reserved");
  expect(await account("rich")).toMatchObject({ heldMinor: 2 * 1250 + 900, availableMinor: 1_000_000 - 3400 });
});

it("out of stock: the lines reserved so far are released and the order cancelled", async () => {
  const orderId = await place("rich", [{ sku: "MUG", quantity: 1 }, { sku: "RARE", quantity: 5 }]);
  const order = await settled(orderId);
  expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "out of stock: RARE" });
  const saga = await sagaOf(orderId, (s) => s === "COMPENSATED");
  expect(saga.steps.map((s) => [s.step, s.status])).toEqual([
    ["reserve:MUG", "SUCCEEDED"], ["reserve:RARE", "FAILED"], ["release:MUG", "SUCCEEDED"], ["cancel", "SUCCEEDED"],
  ]);
  await eventually(async () => (await stock("MUG")).reserved === 1, "MUG back to the happy path's reservation only");
});

it("payment declined: stock released, order cancelled", async () => {
  const orderId = await place("poor", [{ sku: "TEA", quantity: 1 }]);
  expect(await settled(orderId)).toMatchObject({ status: "CANCELLED", cancelReason: "payment declined" });
  await sagaOf(orderId, (s) => s === "COMPENSATED");
  await eventually(async () => (await stock("TEA")).reserved === 2, "TEA released");
  expect(await account("poor")).toMatchObject({ availableMinor: 100, heldMinor: 0 });
});

it("payments down past the deadline: compensated and cancelled; the late authorization is voided", async () => {
  await system.stop("payments");
  const before = await account("rich");
  const orderId = await place("rich", [{ sku: "PEN", quantity: 1 }]);
  expect(await settled(orderId, DEADLINE_MS + 15_000)).toMatchObject({ status: "CANCELLED", cancelReason: "checkout timed out" });
  await eventually(async () => (await stock("PEN")).reserved === 0, "PEN released");
  await system.start("payments"); // the queued authorize runs, then the void undoes it
  await sagaOf(orderId, (s) => s === "COMPENSATED");
  await eventually(async () => {
    const a = await account("rich");
    return a.heldMinor === before.heldMinor && a.availableMinor === before.availableMinor;
  }, "money held for the cancelled order released");
}, 60_000);

it("payments stopped and restarted within the deadline: the order is confirmed", async () => {
  await system.stop("payments");
  const orderId = await place("rich", [{ sku: "PEN", quantity: 1 }]);
  await eventually(async () => (await sagaOf(orderId, () => true)).currentStep === "authorize", "the saga waiting on payments");
  await system.start("payments");
  expect((await settled(orderId)).status).toBe("CONFIRMED");
});

it("a service that is down: its commands time out with a typed error, wait in its queue, and run when it is back", async () => {
  await system.stop("ordering");
  const timedOut = await execute(system.url, PlaceOrderDocument, { input: { orderId: "queued-1", customerId: "rich", lines: [{ sku: "MUG", quantity: 1 }] } });
  expect(timedOut.errors?.[0]?.extensions).toMatchObject({ code: "COMMAND_TIMEOUT", service: "ordering" });
  // Meanwhile the api serves queries and the other services' mutations.
  expect((await stock("MUG")).sku).toBe("MUG");
  await request(system.url, OpenAccountDocument, { customerId: "while-down", currency: "EUR", initialBalanceMinor: 1 });
  await system.start("ordering");
  expect((await settled("queued-1")).status).toBe("CONFIRMED"); // the queued command ran, and its checkout too
}, 60_000);

it("deadlines survive a restart of the saga runner", async () => {
  await system.stop("payments");
  const orderId = await place("rich", [{ sku: "PEN", quantity: 1 }]);
  await eventually(async () => (await sagaOf(orderId, () => true)).currentStep === "authorize", "the saga waiting on payments");
  await system.stop("saga", "SIGKILL");
  await new Promise((r) => setTimeout(r, DEADLINE_MS));
  await system.start("saga");
  expect(await settled(orderId, 30_000)).toMatchObject({ status: "CANCELLED", cancelReason: "checkout timed out" });
  await system.start("payments");
  await sagaOf(orderId, (s) => s === "COMPENSATED");
}, 60_000);

it("choreography: shipping captures and commits; cancelling a confirmed order voids and releases", async () => {
  const shipped = await place("rich", [{ sku: "MUG", quantity: 2 }]);
  const cancelled = await place("rich", [{ sku: "TEA", quantity: 1 }]);
  await settled(shipped);
  await settled(cancelled);
  await request(system.url, MarkOrderShippedDocument, { orderId: shipped });
  await request(system.url, CancelOrderDocument, { orderId: cancelled, reason: "changed my mind" });
  await eventually(async () => {
    const payments = (await account("rich")).payments;
    const status = (id: string) => payments.find((p) => p.orderId === id)?.status;
    return status(shipped) === "CAPTURED" && status(cancelled) === "VOIDED";
  }, "payments captured and voided by reaction");
  await eventually(async () => (await stock("TEA")).reserved === 2, "TEA released by reaction");
  const { salesDashboard } = await request(system.url, SalesDashboardDocument, {});
  expect(salesDashboard.ordersByStatus.shipped).toBe(1);
  expect(salesDashboard.capturedRevenueMinor).toBe(1800);
});

it("duplicate delivery of every message type has no second effect", async () => {
  const orderId = await place("rich", [{ sku: "MUG", quantity: 1 }]);
  await sagaOf(orderId, (s) => s === "COMPLETED");
  const countEvents = async () => Number((await system.db.pool.query("SELECT count(*) FROM events")).rows[0].count);
  const before = await countEvents();
  const accountBefore = await account("rich");

  // A resent mutation (same commandId).
  const again = await request(system.url, PlaceOrderDocument, { input: { orderId: "dup-1", customerId: "rich", lines: [{ sku: "PEN", quantity: 1 }] }, commandId: "dup-cmd" });
  const twice = await request(system.url, PlaceOrderDocument, { input: { orderId: "dup-1", customerId: "rich", lines: [{ sku: "PEN", quantity: 1 }] }, commandId: "dup-cmd" });
  expect(twice.placeOrder).toMatchObject({ duplicate: true, position: again.placeOrder.position });
  await sagaOf("dup-1", (s) => s === "COMPLETED");
  const afterDup = await countEvents();

  // Every command the saga sent, delivered again to its service's queue.
  const connection = createRedis(TEST_REDIS_URL);
  const bus = new QueueCommandBus(connection, TEST_REDIS_URL, system.prefix, { timeoutMs: 5000, attempts: 1 });
  const stream = `saga.checkout-${orderId}`;
  // Delivered again by the same sender: a saga step's key answers only the saga (another actor is IDEMPOTENCY_KEY_REUSED).
  const ctx = (step: string) => ({ commandId: `${stream}/${step}`, actor: "saga:checkout" });
  const replies = await Promise.all([
    bus.send("inventory", { type: "ReserveStock", sku: "MUG", orderId, quantity: 1 }, ctx("reserve:MUG")),
    bus.send("payments", { type: "AuthorizePayment", customerId: "rich", orderId, amountMinor: 900 }, ctx("authorize")),
    bus.send("ordering", { type: "ConfirmOrder", orderId }, ctx("confirm")),
  ]);
  expect(replies.map((r) => r.duplicate)).toEqual([true, true, true]);
  expect(replies.map((r) => r.eventTypes)).toEqual([["StockReserved"], ["PaymentAuthorized"], ["OrderConfirmed"]]); // first results
  await bus.close();
  await connection.quit();

  // Trigger events and reactions delivered again: rewind every log subscription to the start.
  await system.db.pool.query("UPDATE subscription_checkpoints SET transaction_id = '0', global_position = 0");
  for (const role of ["saga", "inventory", "payments"]) {
    await system.stop(role);
    await system.start(role);
  }
  await new Promise((r) => setTimeout(r, 1500)); // time for the replays to run through the whole log
  expect(await countEvents()).toBe(afterDup);
  expect(afterDup - before).toBeGreaterThan(0);
  const accountAfter = await account("rich");
  expect(accountAfter.heldMinor - accountBefore.heldMinor).toBe(100); // only dup-1's own authorization
}, 60_000);

it("after everything: orders settled, stock and money conserved, read models equal the log", async () => {
  const { rows } = await system.db.pool.query("SELECT count(*)::int AS n FROM events WHERE type = 'OrderPlaced'");
  expect(rows[0].n).toBe(orderSeq + 2); // with dup-1 and queued-1
  for (let i = 1; i <= orderSeq; i++) expect(["CONFIRMED", "CANCELLED", "SHIPPED"]).toContain((await settled(`order-${i}`)).status);
  const poor = await request(system.url, CustomerOrdersDocument, { customerId: "poor", first: 10 });
  expect(poor.customerOrders.edges.map((e) => e.node.orderId)).toEqual(["order-3"]);
  const ids: string[] = [];
  for (let after: string | null = null, more = true; more; ) {
    const { customerOrders: page }: CustomerOrdersQuery = await request(system.url, CustomerOrdersDocument, { customerId: "rich", first: 3, after });
    ids.push(...page.edges.map((e) => e.node.orderId));
    [after, more] = [page.pageInfo.endCursor ?? null, page.pageInfo.hasNextPage];
  }
  const { rows: richOrders } = await system.db.pool.query(
    "SELECT data->>'orderId' AS id FROM events WHERE type = 'OrderPlaced' AND data->>'customerId' = 'rich' ORDER BY global_position DESC",
  );
  expect(ids).toEqual(richOrders.map((r) => r.id)); // every order once, newest first, across pages
  expect(await stockConservation(system.db)).toEqual([]);
  const money = await moneyConservation(system.db);
  expect(money.accounted).toBe(money.putIn);
  expect(money.negative).toBe(false);
  expect(await readModelsMatchLog(system.db, system.redis, system.prefix)).toEqual([]);
}, 60_000);
