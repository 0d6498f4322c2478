import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  DefineProductDocument,
  MarkOrderShippedDocument,
  OpenAccountDocument,
  ProductDocument,
  RestockProductDocument,
  PlaceOrderDocument,
  SalesDashboardDocument,
} from "./graphql/generated";
import { ARTIFACTS_DIR, isLocalUrl, launchRecordingBrowser, type RecordingBrowser, textUntil } from "./support/browser";
import { JWT_ENV, token } from "./support/auth";
import { request } from "./support/graphqlClient";
import { startSystem, type RunningSystem } from "./support/system";
import { untilSubscribed } from "./support/testEnv";

/**
 * What people see: GraphiQL and the sales dashboard, driven in headless
 * chromium against the whole system, with nothing loaded from outside this
 * machine. Screenshots land in artifacts/browser/ for CI to keep.
 */
let system: RunningSystem;
let browser: RecordingBrowser;

beforeAll(async () => {
  browser = await launchRecordingBrowser();
  // The processes run with NODE_ENV=production, where introspection is off by default; GraphiQL needs it.
  system = await startSystem(["all"], { GRAPHQL_INTROSPECTION: "true" });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  const codes = await system?.shutdown();
  expect(codes?.every((c) => c === 0)).toBe(true);
});

afterEach(() => {
  expect(browser.requested.length).toBeGreaterThan(0);
  expect(browser.requested.filter((url) => !isLocalUrl(url))).toEqual([]);
  // Every page works under the api's CSP: nothing it needs was refused.
  expect(browser.cspViolations).toEqual([]);
});

const origin = () => new URL(system.url).origin;
const screenshot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });

/** Replaces the operation in GraphiQL's editor by typing it, then runs it. */
async function run(page: Page, operation: string): Promise<void> {
  const editor = page.locator(".graphiql-query-editor .monaco-editor");
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(operation);
  await page.keyboard.press("Escape"); // closes the autocompletion popup
  // Typed exactly: Monaco's auto-closed brackets and quotes are typed over, not doubled.
  expect(await textUntil(page.locator(".graphiql-query-editor .view-lines"), (t) => t === operation, "the typed operation")).toBe(operation);
  // GraphiQL parses the editor after a debounce; running before it names the operation runs the previous one.
  const name = /^(?:query|mutation|subscription) (\w+)/.exec(operation)![1]!;
  await textUntil(page.locator(".graphiql-tab-active"), (t) => t.trim() === name, `GraphiQL to parse ${name}`);
  await page.getByRole("button", { name: /Execute query/ }).click();
}

const response = (page: Page) => page.locator(".graphiql-response .view-lines");

it("GraphiQL runs a mutation, a query that reads it, and a live subscription", async () => {
  const page = await browser.context.newPage();
  // GraphiQL comes as a shell and hashed assets, not one inlined 9 MB page; Monaco's workers are same-origin files.
  const assets: string[] = [];
  page.on("response", (r) => r.url().includes("/graphiql/") && r.status() === 200 && assets.push(r.url()));
  // Interacting before the schema arrives can lose the first run.
  const introspected = page.waitForResponse((r) => r.request().postData()?.includes("IntrospectionQuery") ?? false);
  await page.goto(`${origin()}/graphql`);
  await introspected;

  await run(page, 'mutation DefineTea { defineProduct(input: { sku: "GQL-TEA", name: "Browser tea", priceMinor: 700, currency: "EUR", initialStock: 12 }) { position } }');
  const defined = await textUntil(response(page), (t) => /"position": "\d+\.\d+"/.test(t), "the mutation's result");
  const position = /"position": "(\d+\.\d+)"/.exec(defined)![1]!;
  await screenshot(page, "graphiql-mutation");

  await run(page, `query ReadTea { product(id: "GQL-TEA", waitFor: "${position}") { sku name available } }`);
  const read = JSON.parse(await textUntil(response(page), (t) => t.includes('"product"'), "the query's result"));
  expect(read).toEqual({ data: { product: { sku: "GQL-TEA", name: "Browser tea", available: 12 } } });

  await run(page, "subscription StockFeed { stockLevels { sku available reserved eventType } }");
  await untilSubscribed(system.redis, system.prefix, "stock-levels");
  await request(system.url, RestockProductDocument, { sku: "GQL-TEA", quantity: 3 });
  const live = JSON.parse(await textUntil(response(page), (t) => t.includes("StockRestocked"), "the subscription's live result"));
  expect(live).toEqual({ data: { stockLevels: { sku: "GQL-TEA", available: 15, reserved: 0, eventType: "StockRestocked" } } });
  await screenshot(page, "graphiql-subscription");
  expect(browser.requested).toContain(system.url.replace(/^http/, "ws")); // WebSockets are recorded (and checked) too
  expect(assets.some((url) => /\/graphiql\/graphiql\.[0-9a-f]{20}\.js$/.test(url))).toBe(true);
  expect(assets.some((url) => /\/graphiql\/graphql\.worker\.[0-9a-f]{20}\.js$/.test(url))).toBe(true);
  await page.close();
});

it("the dashboard follows an order live: feed, counts, revenue and lag", async () => {
  const define = await request(system.url, DefineProductDocument, {
    input: { sku: "DASH-MUG", name: "Dashboard mug", priceMinor: 1250, currency: "EUR", initialStock: 10 },
  });
  await request(system.url, OpenAccountDocument, { customerId: "dash-ada", currency: "EUR", initialBalanceMinor: 100_000 });
  await request(system.url, ProductDocument, { id: "DASH-MUG", waitFor: define.defineProduct.position }); // orders are priced from the catalog

  const page = await browser.context.newPage();
  await page.goto(`${origin()}/dashboard`);
  expect(page.url()).toBe(`${origin()}/dashboard/`);
  await textUntil(page.locator("#connection"), (t) => t === "live", "the dashboard's connection");
  await untilSubscribed(system.redis, system.prefix, "orders");
  await untilSubscribed(system.redis, system.prefix, "sales-dashboard");
  const count = async (status: string) => Number(await textUntil(page.locator(`#count-${status}`), (t) => /^\d+$/.test(t), `count ${status}`));
  const before = { confirmed: await count("confirmed"), shipped: await count("shipped") };
  const revenueBefore = Number(await page.locator("#revenue").innerText());
  expect(await page.locator("#lag").innerText()).toBe("–"); // nothing live yet: no lag to show

  await request(system.url, PlaceOrderDocument, { input: { orderId: "dash-1", customerId: "dash-ada", lines: [{ sku: "DASH-MUG", quantity: 2 }] } });
  const confirmedRow = page.locator('#feed li[data-order-id="dash-1"]', { hasText: "CONFIRMED" });
  await textUntil(confirmedRow, (t) => t.includes("OrderConfirmed") && t.includes("25.00 EUR"), "the confirmed order in the feed");
  await textUntil(page.locator("#count-confirmed"), (t) => t === String(before.confirmed + 1), "one more confirmed order");
  expect(await page.locator('#feed li[data-order-id="dash-1"]').count()).toBe(2); // placed, then confirmed
  expect(await page.locator("#lag").innerText()).toMatch(/^\d+(\.\d)? (ms|s)$/);

  // Shipping captures the payment (Payments reacts to OrderShipped): revenue moves without another order change.
  await request(system.url, MarkOrderShippedDocument, { orderId: "dash-1" });
  await textUntil(page.locator("#count-shipped"), (t) => t === String(before.shipped + 1), "the shipped order counted");
  await textUntil(page.locator("#revenue"), (t) => t === (revenueBefore + 25).toFixed(2), "the captured payment in revenue");
  await textUntil(page.locator("#top-products"), (t) => t.includes("DASH-MUG: 2 units"), "the top products");
  await screenshot(page, "dashboard");

  // The page shows what the API answers.
  const { salesDashboard } = await request(system.url, SalesDashboardDocument);
  for (const status of ["pending", "confirmed", "shipped", "cancelled"] as const) {
    expect(await page.locator(`#count-${status}`).innerText()).toBe(String(salesDashboard.ordersByStatus[status]));
  }
  expect(await page.locator("#revenue").innerText()).toBe((salesDashboard.capturedRevenueMinor / 100).toFixed(2));
  await page.close();
});

it("Bull Board renders its queues under the api's CSP", async () => {
  const page = await browser.context.newPage();
  await page.goto(`${origin()}/admin/queues`); // AUTH_MODE=dev: open
  await textUntil(page.locator("body"), (t) => t.includes("commands.inventory"), "the board's queue list");
  await screenshot(page, "bull-board");
  await page.close();
});

it("with access control on, the dashboard asks for a token and connects with one", async () => {
  const secured = await startSystem(["all"], JWT_ENV);
  try {
    const base = new URL(secured.url).origin;
    const page = await browser.context.newPage();
    await page.goto(`${base}/dashboard`);
    await textUntil(page.locator("#connection"), (t) => t.startsWith("refused"), "the refusal without a token");
    expect(await page.locator("#token-form").isVisible()).toBe(true);
    expect(await page.locator("#count-pending").innerText()).toBe("–");

    await page.locator("#token").fill(await token("viewer", "command:ordering")); // signed, but without `query`
    await page.locator("#token-form button").click();
    await textUntil(page.locator("#token-reason"), (t) => t.includes("query"), "the refusal naming the missing scope");

    await page.locator("#token").fill(await token("viewer", "query"));
    await page.locator("#token-form button").click();
    await textUntil(page.locator("#connection"), (t) => t === "live", "the connection with a good token");
    await textUntil(page.locator("#count-pending"), (t) => t === "0", "the dashboard's figures");
    expect(await page.locator("#token-form").isVisible()).toBe(false);

    // A link can carry the token in its fragment, which never reaches the server or its logs.
    await page.goto(`${base}/dashboard/#token=${await token("viewer", "query")}`);
    await textUntil(page.locator("#connection"), (t) => t === "live", "the connection with the token from the link");
    await page.close();
  } finally {
    expect((await secured.shutdown()).every((c) => c === 0)).toBe(true);
  }
}, 90_000);
