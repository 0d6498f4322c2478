import { clientIdempotencyKey } from "../src/platform/aggregate/idempotency";
import { DefineProductDocument, ProductChangedDocument, ProductDocument, RestockProductDocument, StockLevelsDocument } from "./graphql/generated";
import { startFaultProxy, targetOf, type FaultProxy } from "./support/faultProxy";
import { collect, execute, gql, request, wsClient } from "./support/graphqlClient";
import { spawnRole, type RoleProcess } from "./support/processes";
import { eventually, startSystem, type RunningSystem } from "./support/system";
import { ADMIN_DATABASE_URL, TEST_REDIS_URL, untilSubscribed } from "./support/testEnv";

/**
 * Degraded modes, with real processes whose PostgreSQL and Redis connections
 * go through fault proxies (the shared servers stay up for everyone else).
 * COMMAND_TIMEOUT_MS is far beyond the test's own timeout: an UNAVAILABLE that
 * came only from a caller's timeout would fail the test instead of passing slowly.
 */
let pg: FaultProxy;
let redisProxy: FaultProxy;
let system: RunningSystem;
/** A second api that reaches PostgreSQL directly: it sees PostgreSQL up while the inventory service does not. */
let directApi: RoleProcess;
let directUrl: string;

const eventsOf = async (commandId: string): Promise<string[]> =>
  (await system.db.pool.query("SELECT type FROM events WHERE metadata->>'commandId' = $1 ORDER BY global_position", [commandId])).rows.map(
    (r: { type: string }) => r.type,
  );
const eventCount = async () => Number((await system.db.pool.query("SELECT count(*) FROM events")).rows[0].count);
const occurrences = (role: RoleProcess, pattern: RegExp) => (role.output().match(new RegExp(pattern, "g")) ?? []).length;
/** Waits until `role` has printed `pattern` more than `before` times. */
const logged = (role: RoleProcess, pattern: RegExp, before: number) =>
  eventually(async () => occurrences(role, pattern) > before, `${pattern} from a role`, 30_000);

const restock = (url: string, sku: string, quantity: number, commandId: string) =>
  execute(url, RestockProductDocument, { sku, quantity, commandId });
const restockWithDuplicate = (url: string, sku: string, quantity: number, commandId: string) =>
  gql(url, `mutation($sku: String!, $q: Int!, $c: String) { restockProduct(sku: $sku, quantity: $q, commandId: $c) { position duplicate events } }`, {
    sku,
    q: quantity,
    c: commandId,
  });
const available = async (url: string, sku: string, waitFor?: string | null) =>
  (await request(url, ProductDocument, { id: sku, waitFor: waitFor ?? null })).product?.available;

const UNREACHABLE = /PostgreSQL unreachable/;
const REACHABLE = /PostgreSQL reachable again/;

beforeAll(async () => {
  pg = await startFaultProxy(targetOf(ADMIN_DATABASE_URL, 5432));
  redisProxy = await startFaultProxy(targetOf(TEST_REDIS_URL, 6379));
  // The saga runner is there to show it rides out both outages (it exits 0 at the end, not crashed).
  system = await startSystem(["inventory", "projector", "saga", "api"], (base) => ({
    DATABASE_URL: pg.urlFor(base.DATABASE_URL!),
    REDIS_URL: redisProxy.urlFor(base.REDIS_URL!),
    COMMAND_TIMEOUT_MS: "120000",
  }));
  directApi = spawnRole("api", { ...system.env, DATABASE_URL: system.db.url });
  directUrl = (await directApi.waitFor(/GraphiQL at (http:\/\/\S+)/))[1]!;
  await directApi.waitFor(/ready \(api\)/);
  const { defineProduct } = await request(system.url, DefineProductDocument, {
    input: { sku: "TEA-1", name: "Sencha", priceMinor: 1250, currency: "EUR", initialStock: 10 },
  });
  expect(await available(system.url, "TEA-1", defineProduct.position)).toBe(10);
});

afterAll(async () => {
  pg?.restore();
  redisProxy?.restore();
  const direct = await directApi?.stop();
  const codes = await system?.shutdown();
  await pg?.close();
  await redisProxy?.close();
  expect([direct, ...(codes ?? [])]).toEqual([0, 0, 0, 0, 0]); // every process survived every outage
});

describe("PostgreSQL down", () => {
  it("refuses mutations with UNAVAILABLE, keeps serving queries and subscriptions, and takes writes again when it returns", async () => {
    const client = wsClient(system.url.replace(/^http/, "ws"));
    const changes = collect(client, ProductChangedDocument, { id: "TEA-1" });
    await untilSubscribed(system.redis, system.prefix, "product:TEA-1");
    const before = await eventCount();
    const apiDown = occurrences(system.role("api"), UNREACHABLE);
    const apiUp = occurrences(system.role("api"), REACHABLE);
    const inventoryUp = occurrences(system.role("inventory"), REACHABLE);

    pg.block("hang"); // as a network partition: connection attempts get no answer at all
    pg.cut();
    await logged(system.role("api"), UNREACHABLE, apiDown);

    const refused = await restock(system.url, "TEA-1", 5, "restock-while-pg-down");
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "UNAVAILABLE", dependency: "PostgreSQL" });
    expect(refused.data).toBeNull();

    // Reads come from Redis: unaffected.
    expect(await available(system.url, "TEA-1")).toBe(10);
    // A subscription can still be opened (the api subscribes to Redis, not PostgreSQL).
    const late = wsClient(system.url.replace(/^http/, "ws"));
    const lateStock = collect(late, StockLevelsDocument);
    await untilSubscribed(system.redis, system.prefix, "stock-levels");

    pg.restore();
    await logged(system.role("api"), REACHABLE, apiUp);
    await logged(system.role("inventory"), REACHABLE, inventoryUp);
    const accepted = await request(system.url, RestockProductDocument, { sku: "TEA-1", quantity: 3, commandId: "restock-after-pg-back" });
    expect(await available(system.url, "TEA-1", accepted.restockProduct.position)).toBe(13);

    // Both subscriptions, the one open through the outage and the one opened during it, see the change.
    const [seen] = await changes.until(1, 30_000);
    expect(seen!.productChanged).toMatchObject({ eventType: "StockRestocked", product: { available: 13 } });
    expect((await lateStock.until(1, 30_000))[0]!.stockLevels).toMatchObject({ sku: "TEA-1", available: 13, eventType: "StockRestocked" });

    // The refused command left nothing; the accepted one appended once.
    expect(await eventsOf("restock-while-pg-down")).toEqual([]);
    expect(await eventsOf("restock-after-pg-back")).toEqual(["StockRestocked"]);
    expect(await eventCount()).toBe(before + 1);
    changes.stop();
    lateStock.stop();
    await client.dispose();
    await late.dispose();
  }, 120_000);

  it("a command already queued when the service loses PostgreSQL answers UNAVAILABLE now and runs once when it returns", async () => {
    const inventory = system.role("inventory");
    const down = occurrences(inventory, UNREACHABLE);
    const apiDown = occurrences(system.role("api"), UNREACHABLE);
    const apiUp = occurrences(system.role("api"), REACHABLE);
    const before = await eventCount();
    pg.block("refuse"); // as a server that is down: connection attempts fail at once
    pg.cut();
    await logged(inventory, UNREACHABLE, down);
    await logged(system.role("api"), UNREACHABLE, apiDown);

    // This api reaches PostgreSQL itself, so it accepts the command and queues it for the inventory service.
    const deferred = await restock(directUrl, "TEA-1", 7, "queued-while-service-pg-down");
    expect(deferred.errors?.[0]?.extensions).toMatchObject({ code: "UNAVAILABLE", dependency: "PostgreSQL", queued: true, service: "inventory" });
    expect(await eventsOf("queued-while-service-pg-down")).toEqual([]);

    pg.restore();
    await logged(system.role("api"), REACHABLE, apiUp);
    // Nobody resends: the queued command runs by itself once the service reaches PostgreSQL.
    await eventually(async () => (await eventsOf("queued-while-service-pg-down")).length > 0, "the queued command to run", 60_000);
    await eventually(async () => (await available(system.url, "TEA-1")) === 20, "the read model to show it", 30_000);

    // A resend returns the first result and appends nothing.
    const resent = await restockWithDuplicate(directUrl, "TEA-1", 7, "queued-while-service-pg-down");
    expect(resent.errors).toBeUndefined();
    expect(resent.data?.restockProduct).toMatchObject({ duplicate: true, events: [] });
    expect(await eventsOf("queued-while-service-pg-down")).toEqual(["StockRestocked"]);
    expect(await eventCount()).toBe(before + 1);
  }, 120_000);
});

describe("Redis down", () => {
  it("fails reads with UNAVAILABLE, lands writes in PostgreSQL through the command inbox, and projections catch up on return", async () => {
    const before = await eventCount();
    redisProxy.block("hang");
    redisProxy.cut();

    const read = await eventually(async () => {
      const r = await execute(system.url, ProductDocument, { id: "TEA-1", waitFor: null });
      return r.errors?.length ? r : null;
    }, "reads to notice Redis is gone");
    expect(read.errors![0]!.extensions).toMatchObject({ code: "UNAVAILABLE", dependency: "Redis" });

    // Writes go to PostgreSQL by the inbox lane, and the inventory service (not the api) runs them.
    const written = await request(system.url, RestockProductDocument, { sku: "TEA-1", quantity: 4, commandId: "restock-while-redis-down" });
    expect(written.restockProduct).toMatchObject({ events: ["StockRestocked"] });
    expect(await eventsOf("restock-while-redis-down")).toEqual(["StockRestocked"]);
    // The inbox keys a client's command by its scoped idempotency key (the dev actor's, here).
    const { rows } = await system.db.pool.query("SELECT service, reply->>'ok' AS ok FROM command_inbox WHERE command_id = $1", [
      clientIdempotencyKey("dev", "restock-while-redis-down"),
    ]);
    expect(rows).toEqual([{ service: "inventory", ok: "true" }]);
    const again = await restockWithDuplicate(system.url, "TEA-1", 4, "restock-while-redis-down");
    expect(again.data?.restockProduct).toMatchObject({ duplicate: true, events: [] });

    // A mutation that needs a read model to build its command cannot be served.
    const order = await gql(system.url, `mutation { placeOrder(input: { orderId: "o-1", customerId: "c-1", lines: [{ sku: "TEA-1", quantity: 1 }] }) { orderId } }`);
    expect(order.errors?.[0]?.extensions).toMatchObject({ code: "UNAVAILABLE", dependency: "Redis" });

    redisProxy.restore();
    // The projector drains from its checkpoint: the read model shows the write made while Redis was away.
    await eventually(async () => {
      const r = await execute(system.url, ProductDocument, { id: "TEA-1", waitFor: null });
      return r.data?.product?.available === 24;
    }, "the projection to catch up", 60_000);

    // And the queues carry commands again.
    const after = await request(system.url, RestockProductDocument, { sku: "TEA-1", quantity: 1, commandId: "restock-after-redis-back" });
    expect(await available(system.url, "TEA-1", after.restockProduct.position)).toBe(25);
    const inbox = await system.db.pool.query("SELECT 1 FROM command_inbox WHERE command_id = $1", [clientIdempotencyKey("dev", "restock-after-redis-back")]);
    expect(inbox.rowCount).toBe(0);
    expect(await eventCount()).toBe(before + 2);
  }, 120_000);

  it("a frozen Redis (connections open, nothing answered) is down too: reads time out as UNAVAILABLE, writes take the inbox", async () => {
    const before = await eventCount();
    redisProxy.stall();

    const read = await execute(system.url, ProductDocument, { id: "TEA-1", waitFor: null });
    expect(read.errors?.[0]?.extensions).toMatchObject({ code: "UNAVAILABLE", dependency: "Redis" });
    const written = await request(system.url, RestockProductDocument, { sku: "TEA-1", quantity: 2, commandId: "restock-while-redis-frozen" });
    expect(written.restockProduct).toMatchObject({ events: ["StockRestocked"] });
    const { rows } = await system.db.pool.query("SELECT reply->>'ok' AS ok FROM command_inbox WHERE command_id = $1", [clientIdempotencyKey("dev", "restock-while-redis-frozen")]);
    expect(rows).toEqual([{ ok: "true" }]);

    redisProxy.restore();
    await eventually(async () => {
      const r = await execute(system.url, ProductDocument, { id: "TEA-1", waitFor: null });
      return r.data?.product?.available === 27;
    }, "the projection to catch up", 60_000);
    // The enqueue that timed out may still have landed once Redis thawed: the command ran once all the same.
    expect(await eventsOf("restock-while-redis-frozen")).toEqual(["StockRestocked"]);
    expect(await eventCount()).toBe(before + 1);
  }, 120_000);
});
