import type { Redis } from "ioredis";
import {
  DefineProductDocument,
  ProductChangedDocument,
  ProductDocument,
  ProductsDocument,
  RestockProductDocument,
  StockLevelsDocument,
} from "./graphql/generated";
import { collect, execute, gql, request, wsClient } from "./support/graphqlClient";
import { spawnRole, type RoleProcess } from "./support/processes";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, untilSubscribed, type TestDatabase } from "./support/testEnv";

let db: TestDatabase;
let redis: Redis;
let prefix: string;
let api: RoleProcess;
let projector: RoleProcess;
let inventory: RoleProcess;
let url: string;

const eventCount = async () => Number((await db.pool.query("SELECT count(*) FROM events")).rows[0].count);

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  prefix = testPrefix();
  const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, EVENTLINE_PREFIX: prefix, PORT: "0" };
  projector = spawnRole("projector", env);
  inventory = spawnRole("inventory", env);
  api = spawnRole("api", env);
  const [, graphqlUrl] = await api.waitFor(/GraphiQL at (http:\/\/\S+)/);
  url = graphqlUrl!;
  await projector.waitFor(/ready \(projector\)/);
  await inventory.waitFor(/ready \(inventory\)/);
});

afterAll(async () => {
  const codes = await Promise.all([api?.stop(), projector?.stop(), inventory?.stop()]);
  await deleteKeys(redis, prefix);
  await redis.quit();
  await db.drop();
  expect(codes).toEqual([0, 0, 0]); // SIGTERM is a graceful, clean exit
});

it("a mutation's position lets a query read its own write without polling", async () => {
  const { defineProduct } = await request(url, DefineProductDocument, {
    input: { sku: "TEA-1", name: "Sencha", priceMinor: 1250, currency: "EUR", initialStock: 5 },
  });
  expect(defineProduct.events).toEqual(["ProductDefined"]);
  expect(defineProduct.position).toMatch(/^\d+\.\d+$/);

  const { product } = await request(url, ProductDocument, { id: "TEA-1", waitFor: defineProduct.position });
  expect(product).toMatchObject({ sku: "TEA-1", name: "Sencha", priceMinor: 1250, available: 5, reserved: 0, inStock: true });
});

it("subscriptions receive changes once the read model has them", async () => {
  const { defineProduct } = await request(url, DefineProductDocument, {
    input: { sku: "MUG-1", name: "Mug", priceMinor: 900, currency: "EUR", initialStock: 0 },
  });
  await request(url, ProductDocument, { id: "MUG-1", waitFor: defineProduct.position }); // subscribe after the definition
  const client = wsClient(url.replace(/^http/, "ws"));
  const product = collect(client, ProductChangedDocument, { id: "MUG-1" });
  const stock = collect(client, StockLevelsDocument);
  await untilSubscribed(redis, prefix, "product:MUG-1");
  await untilSubscribed(redis, prefix, "stock-levels");

  const restocked = await request(url, RestockProductDocument, { sku: "MUG-1", quantity: 7 });
  const again = await request(url, RestockProductDocument, { sku: "MUG-1", quantity: 3 });

  const changes = await product.until(2);
  expect(changes.map((c) => [c.productChanged.eventType, c.productChanged.product?.available])).toEqual([
    ["StockRestocked", 7],
    ["StockRestocked", 10],
  ]);
  const levels = await stock.until(2);
  expect(levels.map((l) => l.stockLevels)).toEqual([
    // Each change carries the position its mutation returned: what a client resumes after.
    { sku: "MUG-1", available: 7, reserved: 0, eventType: "StockRestocked", position: restocked.restockProduct.position },
    { sku: "MUG-1", available: 10, reserved: 0, eventType: "StockRestocked", position: again.restockProduct.position },
  ]);
  product.stop();
  stock.stop();
  await client.dispose();
});

it("bad input gets a typed error and appends nothing", async () => {
  const before = await eventCount();
  const badSku = await execute(url, DefineProductDocument, {
    input: { sku: "not a sku", name: "X", priceMinor: 1, currency: "EUR", initialStock: 0 },
  });
  expect(badSku.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "sku" });

  const negative = await execute(url, RestockProductDocument, { sku: "TEA-1", quantity: -5 });
  expect(negative.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "quantity" });

  // Reservations are the checkout saga's alone (OUT_OF_STOCK is tested through a checkout): no client may send one.
  const reserve = await gql(url, `mutation { reserveStock(sku: "TEA-1", orderId: "o-big", quantity: 1) { position } }`);
  expect(reserve.errors?.[0]?.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED" });

  const unknown = await execute(url, RestockProductDocument, { sku: "NOPE-1", quantity: 1 });
  expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: "NOT_FOUND" });

  const wrongType = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "mutation { restockProduct(sku: \"TEA-1\", quantity: \"many\") { position } }" }),
  }).then((r) => r.json() as Promise<{ errors: Array<{ extensions: { code: string } }> }>);
  expect(wrongType.errors[0]!.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");

  expect(await eventCount()).toBe(before);
});

it("a resent command returns its first result and appends nothing", async () => {
  const input = { sku: "PAN-1", name: "Pan", priceMinor: 3000, currency: "EUR", initialStock: 1 };
  const first = await request(url, DefineProductDocument, { input, commandId: "define-pan-1" });
  const before = await eventCount();
  const again = await request(url, DefineProductDocument, { input, commandId: "define-pan-1" });
  expect(again.defineProduct).toMatchObject({ duplicate: true, position: first.defineProduct.position, events: [] });
  expect(await eventCount()).toBe(before);
});

it("lists products with cursor pagination, sorting and an in-stock filter", async () => {
  let last = "";
  for (const [sku, name, stock] of [["B-2", "banana", 0], ["A-1", "cherry", 2], ["C-3", "apple", 4]] as const) {
    const r = await request(url, DefineProductDocument, { input: { sku, name, priceMinor: 10, currency: "EUR", initialStock: stock } });
    last = r.defineProduct.position!;
  }
  const page1 = await request(url, ProductsDocument, { first: 2, waitFor: last });
  expect(page1.products.edges.map((e) => e.node.sku)).toEqual(["A-1", "B-2"]);
  expect(page1.products.pageInfo.hasNextPage).toBe(true);
  const page2 = await request(url, ProductsDocument, { first: 2, after: page1.products.pageInfo.endCursor });
  expect(page2.products.edges.map((e) => e.node.sku)).toEqual(["C-3", "MUG-1"]);

  const inStockByName = await request(url, ProductsDocument, { first: 10, sort: "NAME", inStock: true });
  const names = inStockByName.products.edges.map((e) => e.node.name);
  expect(names).toEqual(["apple", "cherry", "Mug", "Pan", "Sencha"]);
  expect(names).not.toContain("banana");

  const badCursor = await execute(url, ProductsDocument, { first: 2, after: "not-a-cursor" });
  expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "after" });
  const tooBig = await execute(url, ProductsDocument, { first: 1000 });
  expect(tooBig.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "first" });
});

it("serves GraphiQL offline: the page names only same-origin assets, and each is served", async () => {
  const response = await fetch(url, { headers: { accept: "text/html" } });
  expect(response.status).toBe(200);
  const html = await response.text();
  expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/i);
  const assets = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!);
  expect(assets.length).toBeGreaterThan(2);
  const bodies = await Promise.all(assets.map(async (path) => {
    const asset = await fetch(new URL(path, url));
    expect({ path, status: asset.status }).toEqual({ path, status: 200 });
    return asset.text();
  }));
  const scripts = bodies.join("\n");
  expect(scripts).toContain("renderYogaGraphiQL");
  expect(scripts).toContain('"subscriptionsProtocol":"WS"');
});
