import { DefineProductDocument, OpenAccountDocument, OrderDocument, PlaceOrderDocument, ProductDocument, RedriveSagaDocument, SagaDocument } from "./graphql/generated";
import { execute, request } from "./support/graphqlClient";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * A compensation that keeps failing must not be swallowed: the saga ends
 * FAILED with its error, visible in GraphQL, and a redrive finishes it once
 * the cause is fixed.
 */
let system: RunningSystem;
const GIVE_UP_MS = 25_000;

beforeAll(async () => {
  system = await startSystem(["api", "projector", "saga", "inventory", "ordering", "payments"], {
    SAGA_STEP_TIMEOUT_MS: "800",
    SAGA_ATTEMPTS: "2",
    // Far beyond what SAGA_ATTEMPTS would allow (two 800 ms tries), short enough to wait out in the first test.
    SAGA_GIVE_UP_MS: String(GIVE_UP_MS),
  });
  await request(system.url, OpenAccountDocument, { customerId: "c-1", currency: "EUR", initialBalanceMinor: 10_000 });
  const { defineProduct } = await request(system.url, DefineProductDocument, {
    input: { sku: "ONE", name: "one", priceMinor: 100, currency: "EUR", initialStock: 0 },
  });
  await request(system.url, ProductDocument, { id: "ONE", waitFor: defineProduct.position });
}, 60_000);

afterAll(async () => {
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

const sagaOf = (orderId: string) => request(system.url, SagaDocument, { id: `saga.checkout-${orderId}` }).then((r) => r.saga);

it("a compensation that keeps failing leaves the saga FAILED with its error, and redrive finishes it", async () => {
  // The order is placed while the saga runner is down; then Ordering goes down, so the
  // compensation (cancel the order, after the reservation fails: no stock) cannot run.
  await system.stop("saga");
  await request(system.url, PlaceOrderDocument, { input: { orderId: "o-1", customerId: "c-1", lines: [{ sku: "ONE", quantity: 1 }] } });
  await system.stop("ordering");
  await system.start("saga");

  const failed = await eventually(async () => {
    const saga = await sagaOf("o-1");
    return saga?.status === "FAILED" ? saga : null;
  }, "the saga to fail", GIVE_UP_MS + 30_000);
  expect(failed.lastError).toMatchObject({ step: "cancel" });
  expect(failed.lastError!.message).toMatch(/did not answer|unavailable|ordering/i);

  const tooEarly = await execute(system.url, RedriveSagaDocument, { id: "saga.checkout-unknown" });
  expect(tooEarly.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

  await system.start("ordering");
  await request(system.url, RedriveSagaDocument, { id: "saga.checkout-o-1" });
  await eventually(async () => (await sagaOf("o-1"))?.status === "COMPENSATED", "the redriven saga to finish");
  const { order } = await request(system.url, OrderDocument, { id: "o-1" });
  expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "out of stock: ONE" });
}, GIVE_UP_MS + 60_000);

it("a compensation whose service is only down for a while is resent until it answers, however many tries that takes", async () => {
  await system.stop("saga");
  await request(system.url, PlaceOrderDocument, { input: { orderId: "o-2", customerId: "c-1", lines: [{ sku: "ONE", quantity: 1 }] } });
  await system.stop("ordering");
  await system.start("saga");
  await eventually(async () => (await sagaOf("o-2"))?.currentStep === "cancel", "the saga to try to cancel");
  // Well past two tries of 800 ms each (SAGA_ATTEMPTS), well short of SAGA_GIVE_UP_MS.
  await new Promise((r) => setTimeout(r, 4000));
  expect((await sagaOf("o-2"))?.status).toBe("COMPENSATING");
  await system.start("ordering");
  await eventually(async () => (await sagaOf("o-2"))?.status === "COMPENSATED", "the saga to finish once ordering answers");
  const { order } = await request(system.url, OrderDocument, { id: "o-2" });
  expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "out of stock: ONE" });
}, 90_000);
