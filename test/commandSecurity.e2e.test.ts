import { bearer, JWT_ENV, token } from "./support/auth";
import { gql } from "./support/graphqlClient";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * The security review's attacks on command ids, end to end with real
 * processes and JWTs: a client cannot take another caller's idempotency key,
 * nor one the system uses (the saga's), nor send the saga's own commands.
 */
let system: RunningSystem;
const as: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  // No saga runner yet: the second attack needs the window before it starts a checkout.
  system = await startSystem(["api", "projector", "inventory", "ordering", "payments"], JWT_ENV);
  as.boss = bearer(await token("boss", "command:inventory command:payments query"));
  as.stocker = bearer(await token("stocker", "command:inventory query"));
  as.buyer = bearer(await token("buyer", "command:ordering query"));
  as.other = bearer(await token("other-buyer", "command:ordering query"));
  await gql(system.url, `mutation { defineProduct(input: { sku: "TEA-1", name: "Tea", priceMinor: 100, currency: "EUR", initialStock: 100 }) { position } }`, {}, as.boss);
  await gql(system.url, `mutation { openAccount(customerId: "ada", currency: "EUR", initialBalanceMinor: 100000) { position } }`, {}, as.boss);
  await eventually(async () => (await gql(system.url, `{ product(id: "TEA-1") { sku } }`, {}, as.boss)).data?.product, "the product to be readable");
}, 120_000);

afterAll(async () => {
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

type Result = { data?: Record<string, Record<string, unknown>> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
const run = (who: string, query: string, variables: Record<string, unknown> = {}) => gql(system.url, query, variables, as[who]) as Promise<Result>;
const PLACE = `mutation($c: String, $q: Int!) { placeOrder(input: { customerId: "ada", lines: [{ sku: "TEA-1", quantity: $q }] }, commandId: $c) {
  orderId commandId duplicate events streamId position } }`;
const orderStatus = async (id: string) => ((await run("buyer", `query($id: ID!) { order(id: $id) { status } }`, { id })).data?.order?.status as string | undefined) ?? null;

it("a client cannot pre-empt the saga's start key: the order it read from the audit trail still gets its saga", async () => {
  const placed = await run("buyer", PLACE, { c: "checkout-a2", q: 1 });
  const { orderId, position } = placed.data!.placeOrder as { orderId: string; position: string };
  // The audit trail is the history read model, which may trail the orders one that `waitFor` waits for.
  const eventId = await eventually(async () => {
    const trail = await run("stocker", `query($id: ID!, $w: String) { order(id: $id, waitFor: $w) { auditTrail(first: 5) { edges { node { type eventId } } } } }`, { id: orderId, w: position });
    const edges = (trail.data?.order?.auditTrail as { edges: Array<{ node: { type: string; eventId: string } }> } | undefined)?.edges ?? [];
    return edges.find((e) => e.node.type === "OrderPlaced")?.node.eventId ?? null;
  }, "the OrderPlaced event in the audit trail", 30_000);

  // The attack: the saga's key for this trigger, sent first under an inventory token.
  const attack = await run("stocker", `mutation($c: String) { restockProduct(sku: "TEA-1", quantity: 1, commandId: $c) { duplicate events } }`, { c: `saga-start:${eventId}` });
  expect(attack.data!.restockProduct).toEqual({ duplicate: false, events: ["StockRestocked"] }); // its own command, in its own namespace

  await system.start("saga");
  expect(await eventually(async () => ((await orderStatus(orderId)) === "CONFIRMED" ? "CONFIRMED" : null), "the order to be confirmed by its saga", 60_000)).toBe("CONFIRMED");
  const sagaStarts = await system.db.pool.query("SELECT count(*)::int AS n FROM events WHERE type = 'SagaStarted' AND data->>'sagaId' = $1", [orderId]);
  expect(sagaStarts.rows[0].n).toBe(1);
}, 120_000);

it("a client's commandId never answers another caller's command: each caller runs its own", async () => {
  const stolen = await run("stocker", `mutation($c: String) { restockProduct(sku: "TEA-1", quantity: 1, commandId: $c) { duplicate streamId } }`, { c: "checkout-order-77" });
  expect(stolen.data!.restockProduct).toEqual({ duplicate: false, streamId: "inventory.product-TEA-1" });

  const mine = (await run("buyer", PLACE, { c: "checkout-order-77", q: 2 })).data!.placeOrder as Record<string, unknown>;
  expect(mine).toMatchObject({ commandId: "checkout-order-77", duplicate: false, events: ["OrderPlaced"], streamId: `ordering.order-${String(mine.orderId)}` });
  const theirs = (await run("other", PLACE, { c: "checkout-order-77", q: 2 })).data!.placeOrder as Record<string, unknown>;
  expect(theirs).toMatchObject({ commandId: "checkout-order-77", duplicate: false, events: ["OrderPlaced"] });
  expect(theirs.orderId).not.toBe(mine.orderId); // the order id derives from the caller's scoped key

  // A resend is the same caller's same command: its first result, nothing appended.
  const again = (await run("buyer", PLACE, { c: "checkout-order-77", q: 2 })).data!.placeOrder;
  expect(again).toMatchObject({ orderId: mine.orderId, duplicate: true, events: [] });
  // The same id with another payload is refused, typed, and appends nothing.
  const reused = await run("buyer", PLACE, { c: "checkout-order-77", q: 3 });
  expect(reused.errors?.[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", commandId: "checkout-order-77" });
  const after = (await system.db.pool.query("SELECT count(*)::int AS n FROM events WHERE metadata->>'actor' IN ('buyer', 'other-buyer') AND metadata->>'commandId' = 'checkout-order-77'")).rows[0].n as number;
  expect(after).toBe(2); // one OrderPlaced per caller
  for (const order of [mine, theirs]) {
    await eventually(async () => (await orderStatus(String(order.orderId))) === "CONFIRMED", `order ${String(order.orderId)} to be confirmed`, 60_000);
  }
}, 120_000);

it("the saga's commands are not mutations: a client cannot release a confirmed order's stock or reserve for a phantom order", async () => {
  const attempts = [
    `mutation { releaseStock(sku: "TEA-1", orderId: "o-any") { position } }`,
    `mutation { reserveStock(sku: "TEA-1", orderId: "no-such-order", quantity: 5) { position } }`,
    `mutation { commitStock(sku: "TEA-1", orderId: "o-any") { position } }`,
  ];
  for (const query of attempts) {
    const refused = await run("stocker", query);
    expect(refused.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  }
});
