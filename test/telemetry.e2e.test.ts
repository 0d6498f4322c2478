import { DefineProductDocument, OpenAccountDocument, PlaceOrderDocument, ProductDocument, RestockProductDocument, SagaDocument, StockLevelsDocument } from "./graphql/generated";
import { collect, execute, gql, request, wsClient } from "./support/graphqlClient";
import { jsonLines, telemetryUrlIn } from "./support/logs";
import { families, scrape, valueOf } from "./support/metrics";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * Health and telemetry across the six processes of a deployment: every role
 * answers /health, /ready and /metrics on METRICS_PORT (the api keeps /health
 * and /ready on its own port too, but /metrics leaves it), the metrics count what a checkout did, and one
 * correlationId runs through the logs from the mutation to the last event.
 */
const ROLES = ["api", "projector", "saga", "inventory", "ordering", "payments"];
const ORDER_COMMAND = "telemetry-order-1";
let system: RunningSystem;
const urls: Record<string, string> = {};

beforeAll(async () => {
  system = await startSystem(ROLES, { METRICS_PORT: "0" });
  for (const role of ROLES) {
    urls[role] = (await system.role(role).waitFor(/telemetry at (http:\/\/[^\s"]+)\/metrics/))[1]!;
  }
  const defined = await request(system.url, DefineProductDocument, { input: { sku: "TEA", name: "tea", priceMinor: 1250, currency: "EUR", initialStock: 3 } });
  await request(system.url, ProductDocument, { id: "TEA", waitFor: defined.defineProduct.position }); // orders are priced from the catalog
  await request(system.url, OpenAccountDocument, { customerId: "ada", currency: "EUR", initialBalanceMinor: 100_000 });
  await request(system.url, PlaceOrderDocument, { input: { orderId: "o-1", customerId: "ada", lines: [{ sku: "TEA", quantity: 2 }] }, commandId: ORDER_COMMAND });
  await eventually(async () => (await request(system.url, SagaDocument, { id: "saga.checkout-o-1" })).saga?.status === "COMPLETED", "the checkout to complete");
  // A refusal and a malformed query, for the outcome and error labels.
  const refused = await execute(system.url, RestockProductDocument, { sku: "NOPE", quantity: 5 });
  expect(refused.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  expect((await gql(system.url, "{ noSuchField }")).errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
}, 90_000);

afterAll(async () => {
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

it("serves /health, /ready and /metrics for every role on METRICS_PORT; the api's public port keeps only /health and /ready", async () => {
  const apiOrigin = system.url.replace(/\/graphql$/, "");
  expect(urls.api).not.toBe(apiOrigin);
  expect(new Set(Object.values(urls)).size).toBe(ROLES.length);
  expect((await fetch(`${apiOrigin}/metrics`)).status).toBe(404);
  expect((await fetch(`${apiOrigin}/health`)).status).toBe(200);
  for (const role of ROLES) {
    const health = await fetch(`${urls[role]}/health`);
    expect({ role, status: health.status, body: await health.json() }).toMatchObject({ role, status: 200, body: { status: "ok", role } });
    const ready = await fetch(`${urls[role]}/ready`);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect({ role, status: ready.status, body }).toMatchObject({
      role,
      status: 200,
      body: { status: "ready", checks: { postgres: { ok: true }, redis: { ok: true }, queues: { ok: true } } },
    });
    const metrics = await fetch(`${urls[role]}/metrics`);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  }
  // AUTH_MODE=dev: the board is open like everything else; only the api serves it, on its public port.
  expect((await fetch(`${apiOrigin}/admin/queues`)).status).toBe(200);
  expect((await fetch(`${urls.ordering}/admin/queues`)).status).toBe(404);
});

it("counts commands by type and outcome, with latency, where they run", async () => {
  const ordering = (await scrape(urls.ordering!)).samples;
  expect(valueOf(ordering, "eventline_commands_total", { service: "ordering", type: "PlaceOrder", outcome: "ok" })).toBe(1);
  expect(valueOf(ordering, "eventline_commands_total", { service: "ordering", type: "ConfirmOrder", outcome: "ok" })).toBe(1);
  expect(valueOf(ordering, "eventline_command_duration_seconds_count", { service: "ordering", type: "PlaceOrder", outcome: "ok" })).toBe(1);
  expect(valueOf(ordering, "eventline_command_duration_seconds_sum", { service: "ordering", type: "PlaceOrder", outcome: "ok" })).toBeGreaterThan(0);

  const inventory = (await scrape(urls.inventory!)).samples;
  expect(valueOf(inventory, "eventline_commands_total", { service: "inventory", type: "ReserveStock", outcome: "ok" })).toBe(1);
  expect(valueOf(inventory, "eventline_commands_total", { service: "inventory", type: "Restock", outcome: "NOT_FOUND" })).toBe(1);
  // Each process counts only its own commands.
  expect(valueOf(inventory, "eventline_commands_total", { type: "PlaceOrder" })).toBeUndefined();
  expect(valueOf((await scrape(urls.payments!)).samples, "eventline_commands_total", { type: "AuthorizePayment", outcome: "ok" })).toBe(1);
});

it("counts appends, projection lag, queue depths, saga states and GraphQL operations", async () => {
  const inventory = await scrape(urls.inventory!);
  expect(valueOf(inventory.samples, "eventline_appends_total", { category: "inventory" })).toBe(2); // defined, reserved
  expect(valueOf(inventory.samples, "eventline_events_appended_total", { category: "inventory" })).toBe(2);
  // BullMQ's own exporter: the jobs this service's queue completed.
  expect(valueOf(inventory.samples, "bullmq_job_count", { queue: "commands.inventory", state: "completed" })).toBeGreaterThanOrEqual(3);
  expect(valueOf(inventory.samples, "eventline_subscription_lag_events", { subscription: "reactor:inventory:order-stock" })).toBeGreaterThanOrEqual(0);

  const saga = await scrape(urls.saga!);
  // Four appends per checkout (decision 0028): each step's reply goes in one append with what follows it.
  expect(valueOf(saga.samples, "eventline_appends_total", { category: "saga" })).toBe(4);
  expect(valueOf(saga.samples, "eventline_events_appended_total", { category: "saga" })).toBe(8);
  await eventually(async () => valueOf((await scrape(urls.saga!)).samples, "eventline_sagas", { status: "COMPLETED" }) === 1, "the saga read model");
  expect(valueOf(saga.samples, "eventline_sagas", { status: "FAILED" })).toBe(0);

  const projector = await scrape(urls.projector!);
  for (const projection of ["products", "orders", "accounts", "sagas", "sales-dashboard"]) {
    expect(valueOf(projector.samples, "eventline_projection_lag_events", { projection })).toBeGreaterThanOrEqual(0);
    expect(valueOf(projector.samples, "eventline_projection_lag_seconds", { projection })).toBeGreaterThanOrEqual(0);
  }
  expect(valueOf(projector.samples, "bullmq_job_count", { queue: "projector", state: "waiting" })).toBeGreaterThanOrEqual(0);

  const api = await scrape(urls.api!);
  expect(valueOf(api.samples, "eventline_graphql_operations_total", { type: "mutation", field: "placeOrder", outcome: "ok" })).toBe(1);
  expect(valueOf(api.samples, "eventline_graphql_operations_total", { type: "mutation", field: "restockProduct", outcome: "error" })).toBe(1);
  expect(valueOf(api.samples, "eventline_graphql_errors_total", { code: "NOT_FOUND" })).toBe(1);
  expect(valueOf(api.samples, "eventline_graphql_errors_total", { code: "GRAPHQL_VALIDATION_FAILED" })).toBe(1);
  expect(valueOf(api.samples, "bullmq_job_count", { queue: "commands.ordering", state: "completed" })).toBeGreaterThanOrEqual(2);
  // Every family appears once, however many queues report (a repeated HELP would fail a Prometheus scrape).
  expect(api.text.match(/^# HELP bullmq_job_count /gm)).toHaveLength(1);
  const declared = families(api.text);
  for (const family of ["eventline_graphql_operations_total", "eventline_graphql_errors_total", "eventline_projection_lag_events", "eventline_projection_lag_seconds", "bullmq_job_count"]) {
    expect({ family, declared: declared.has(family) }).toEqual({ family, declared: true });
  }
});

it("counts subscriptions started over WebSocket, and those refused", async () => {
  const client = wsClient(system.url.replace(/^http/, "ws"));
  try {
    const subscription = collect(client, StockLevelsDocument);
    await eventually(
      async () => valueOf((await scrape(urls.api!)).samples, "eventline_graphql_operations_total", { type: "subscription", field: "stockLevels", outcome: "ok" }) === 1,
      "the subscription to be counted",
    );
    subscription.stop();
    const refusal = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: "subscription {" }, { next: () => undefined, error: resolve, complete: () => resolve(null) });
    });
    expect(refusal).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: "GRAPHQL_PARSE_FAILED" }) })]);
    const { samples } = await scrape(urls.api!);
    // Refused before an operation was resolved: this one and the invalid query over HTTP in beforeAll.
    expect(valueOf(samples, "eventline_graphql_operations_total", { type: "unknown", field: "unknown", outcome: "error" })).toBe(2);
    expect(valueOf(samples, "eventline_graphql_errors_total", { code: "GRAPHQL_PARSE_FAILED" })).toBe(1);
  } finally {
    await client.dispose();
  }
});

it("logs every command and append as JSON with the mutation's correlationId, across processes", async () => {
  const lines = (role: string) => jsonLines(system.role(role).output()).filter((l) => l.correlationId === ORDER_COMMAND);
  await eventually(async () => lines("ordering").some((l) => l.commandType === "ConfirmOrder"), "the confirmation's log line");

  expect(lines("api")).toContainEqual(expect.objectContaining({ commandType: "PlaceOrder", commandId: ORDER_COMMAND, outcome: "ok", level: "info" }));
  const ordering = lines("ordering");
  expect(ordering).toContainEqual(
    expect.objectContaining({ msg: "command PlaceOrder ok", commandId: ORDER_COMMAND, outcome: "ok", events: ["OrderPlaced"], ms: expect.any(Number) }),
  );
  expect(ordering).toContainEqual(expect.objectContaining({ streamId: "ordering.order-o-1", events: ["OrderPlaced"], commandId: ORDER_COMMAND, position: expect.any(String) }));
  expect(ordering).toContainEqual(expect.objectContaining({ commandType: "ConfirmOrder", commandId: "saga.checkout-o-1/confirm", actor: "saga:checkout" }));
  // The saga and the other services carry the same correlationId in their commands and events.
  expect(lines("saga").map((l) => l.events)).toContainEqual(["SagaStepSucceeded", "SagaFinished"]);
  expect(lines("inventory")).toContainEqual(expect.objectContaining({ commandType: "ReserveStock", outcome: "ok", causationId: "saga.checkout-o-1" }));
  expect(lines("inventory")).toContainEqual(expect.objectContaining({ streamId: "inventory.product-TEA", events: ["StockReserved"] }));
  expect(lines("payments")).toContainEqual(expect.objectContaining({ commandType: "AuthorizePayment", outcome: "ok" }));
  // The events in the log say the same.
  const { rows } = await system.db.pool.query("SELECT DISTINCT metadata->>'correlationId' AS c FROM events WHERE stream_id IN ('ordering.order-o-1', 'saga.checkout-o-1')");
  expect(rows).toEqual([{ c: ORDER_COMMAND }]);
  // Every line of every process is a JSON object with a level, a time and the role.
  for (const role of ROLES) {
    const output = system.role(role).output().trim().split("\n");
    expect(jsonLines(output.join("\n"))).toHaveLength(output.length);
    expect(jsonLines(output.join("\n"))[0]).toMatchObject({ level: expect.stringMatching(/^(info|warn)$/), role, time: expect.any(String) });
  }
  expect(telemetryUrlIn(system.role("payments").output())).toBe(urls.payments);
});
