import { StockLevelsDocument } from "./graphql/generated";
import { bearer, JWT_ENV, token } from "./support/auth";
import { collect, connectionOutcome, gql, wsClient } from "./support/graphqlClient";
import { spawnRole } from "./support/processes";
import { eventually, startSystem, type RunningSystem } from "./support/system";
import { TEST_REDIS_URL, untilSubscribed } from "./support/testEnv";

/**
 * Access control: commands and queries are secured separately. Each scope is
 * accepted where it should be and refused everywhere else, over HTTP and
 * WebSocket; every event records who acted.
 */
const ALL_SCOPES = "command:inventory command:ordering command:payments query admin";

/** Callers, by the scopes their token carries; "none" sends no token, "forged" one signed with another key. */
const CALLERS = {
  none: null,
  forged: ALL_SCOPES,
  "inv-bot": "command:inventory",
  "ord-bot": "command:ordering",
  "pay-bot": "command:payments",
  reader: "query",
  ops: "admin",
} as const;
type Caller = keyof typeof CALLERS;
const CALLER_NAMES = Object.keys(CALLERS) as Caller[];

const headers: Partial<Record<Caller, Record<string, string>>> = {};
let system: RunningSystem;
let counter = 0;

beforeAll(async () => {
  system = await startSystem(["api", "projector", "saga", "inventory", "ordering", "payments"], JWT_ENV);
  for (const caller of CALLER_NAMES) {
    const scope = CALLERS[caller];
    if (caller === "forged") headers[caller] = bearer(await token("mallory", ALL_SCOPES, { secret: "another-secret-of-32-characters-or-more" }));
    else headers[caller] = scope === null ? {} : bearer(await token(caller, scope));
  }
  // Something to order and someone to pay, for the ordering commands below.
  const boss = bearer(await token("boss", ALL_SCOPES));
  await gql(system.url, `mutation { defineProduct(input: { sku: "TEA-1", name: "Tea", priceMinor: 100, currency: "EUR", initialStock: 1000 }) { position } }`, {}, boss);
  await gql(system.url, `mutation { openAccount(customerId: "ada", currency: "EUR", initialBalanceMinor: 1000000) { position } }`, {}, boss);
  await eventually(async () => (await gql(system.url, `{ product(id: "TEA-1") { sku } }`, {}, boss)).data?.product, "the product to be readable");
}, 60_000);

afterAll(async () => {
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

const eventsMentioning = async (text: string) =>
  (await system.db.pool.query<{ type: string; actor: string }>(
    "SELECT type, metadata->>'actor' AS actor FROM events WHERE data::text LIKE $1 ORDER BY global_position",
    [`%${text}%`],
  )).rows;

const codeOf = (response: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => response.errors?.[0]?.extensions?.code;

/** What a caller without the needed scope gets: no or a bad token is UNAUTHENTICATED, a token without the scope FORBIDDEN. */
const refusal = (caller: Caller) => (caller === "none" || caller === "forged" ? "UNAUTHENTICATED" : "FORBIDDEN");

interface Operation {
  name: string;
  scope: string;
  /** `id` is unique per call: accepted calls use "ok-…", refused ones "refused-…", so the log shows which landed. */
  query(id: string): string;
  /** What an accepted call answers: data, or a domain error that proves it got past access control. */
  accepted(response: Awaited<ReturnType<typeof gql>>): void;
}

const succeeds = (response: Awaited<ReturnType<typeof gql>>) => expect(response.errors).toBeUndefined();

const MUTATIONS: Operation[] = [
  {
    name: "defineProduct",
    scope: "command:inventory",
    query: (id) => `mutation { defineProduct(input: { sku: "${id.toUpperCase()}", name: "p", priceMinor: 100, currency: "EUR", initialStock: 1 }) { position } }`,
    accepted: succeeds,
  },
  {
    name: "placeOrder",
    scope: "command:ordering",
    query: (id) => `mutation { placeOrder(input: { orderId: "${id}", customerId: "ada", lines: [{ sku: "TEA-1", quantity: 1 }] }) { orderId } }`,
    accepted: succeeds,
  },
  {
    name: "openAccount",
    scope: "command:payments",
    query: (id) => `mutation { openAccount(customerId: "${id}", currency: "EUR", initialBalanceMinor: 100) { position } }`,
    accepted: succeeds,
  },
  {
    name: "redriveSaga",
    scope: "admin",
    query: (id) => `mutation { redriveSaga(id: "saga.checkout-${id}") { position } }`,
    // Past access control, the saga service itself answers: there is no such saga.
    accepted: (response) => expect(codeOf(response)).toBe("NOT_FOUND"),
  },
];

const QUERIES: Operation[] = [
  `{ product(id: "TEA-1") { sku } }`,
  `{ products(first: 5) { totalCount } }`,
  `{ order(id: "nope") { id } }`,
  `{ customerOrders(customerId: "ada", first: 5) { totalCount } }`,
  `{ salesDashboard { capturedRevenueMinor } }`,
  `{ account(customerId: "ada") { availableMinor } }`,
  `{ saga(id: "saga.checkout-nope") { id } }`,
  `{ sagas(first: 5) { edges { cursor } } }`,
  `{ correlation(id: "nope", first: 5) { totalCount } }`,
  // node/nodes ask for the scope of the entity's own query, per id.
  `{ node(id: "Product:TEA-1") { id } }`,
  `{ nodes(ids: ["Account:ada", "Order:nope"]) { id } }`,
].map((query) => ({ name: query, scope: "query", query: () => query, accepted: succeeds }));

describe.each(MUTATIONS)("mutation $name needs $scope", (op) => {
  it.each(CALLER_NAMES)("as %s", async (caller) => {
    const allowed = CALLERS[caller] === op.scope;
    const id = `${allowed ? "ok" : "refused"}-${++counter}`;
    const response = await gql(system.url, op.query(id), {}, headers[caller]);
    if (allowed) {
      op.accepted(response);
    } else {
      expect(codeOf(response)).toBe(refusal(caller));
      expect(response.errors![0]!.message).toContain(`'${op.scope}'`); // names the scope needed
      expect(response.errors![0]!.extensions).toMatchObject({ scope: op.scope });
    }
  });
});

describe.each(QUERIES)("query $name needs query", (op) => {
  it.each(CALLER_NAMES)("as %s", async (caller) => {
    const response = await gql(system.url, op.query(""), {}, headers[caller]);
    if (CALLERS[caller] === "query") op.accepted(response);
    else expect({ code: codeOf(response), message: response.errors?.[0]?.message }).toEqual({ code: refusal(caller), message: expect.stringContaining("'query'") });
  });
});

it("refused commands append nothing; accepted ones record the token's subject as the actor", async () => {
  expect(counter).toBe(MUTATIONS.length * CALLER_NAMES.length);
  expect(await eventsMentioning("refused-")).toEqual([]);
  expect(await eventsMentioning("REFUSED-")).toEqual([]);
  // Each service's command, by the one caller allowed to send it.
  const actors = Object.fromEntries(
    (await system.db.pool.query<{ type: string; actor: string }>(
      "SELECT type, metadata->>'actor' AS actor FROM events WHERE type IN ('ProductDefined', 'OrderPlaced', 'AccountOpened') AND data::text ILIKE '%ok-%'",
    )).rows.map((r) => [r.type, r.actor]),
  );
  expect(actors).toEqual({ ProductDefined: "inv-bot", OrderPlaced: "ord-bot", AccountOpened: "pay-bot" });
  // Every event ever appended names someone: a token's subject, or the saga or reactor that acted.
  const { rows } = await system.db.pool.query<{ actor: string | null }>("SELECT DISTINCT metadata->>'actor' AS actor FROM events");
  expect(rows.every((r) => r.actor && r.actor !== "anonymous" && r.actor !== "dev")).toBe(true);
});

it("a bad token is UNAUTHENTICATED, and the message says what is wrong with it", async () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ["garbage", { authorization: "Bearer not-a-jwt" }, /malformed/],
    ["another scheme", { authorization: "Basic dXNlcjpwYXNz" }, /expected 'Bearer <token>'/],
    ["no token after Bearer", { authorization: "Bearer " }, /expected 'Bearer <token>'/],
    ["signed with another key", headers.forged!, /bad signature/],
    ["expired", bearer(await token("reader", "query", { expiresIn: Math.floor(Date.now() / 1000) - 60 })), /expired/],
    ["HS512 instead of HS256", bearer(await token("reader", "query", { algorithm: "HS512" })), /only HS256/],
    ["unsigned (alg none)", bearer(`${b64({ alg: "none" })}.${b64({ sub: "reader", scope: "query" })}.`), /only HS256|malformed/],
  ];
  for (const [what, header, reason] of cases) {
    const response = await gql(system.url, `{ products(first: 1) { totalCount } }`, {}, header);
    expect({ what, code: codeOf(response), reason: reason.test(response.errors?.[0]?.message ?? "") }).toEqual({
      what,
      code: "UNAUTHENTICATED",
      reason: true,
    });
  }
});

describe("subscriptions authenticate through connectionParams", () => {
  const wsUrl = () => system.url.replace(/^http/, "ws");

  it("no token closes 4401", async () => {
    expect(await connectionOutcome(wsUrl())).toBe(4401);
  });

  it("a bad token closes 4401", async () => {
    expect(await connectionOutcome(wsUrl(), headers.forged)).toBe(4401);
    expect(await connectionOutcome(wsUrl(), { authorization: "Bearer nonsense" })).toBe(4401);
  });

  it("a token without the query scope closes 4403", async () => {
    for (const caller of ["inv-bot", "ord-bot", "pay-bot", "ops"] as const) {
      expect({ caller, outcome: await connectionOutcome(wsUrl(), headers[caller]) }).toEqual({ caller, outcome: 4403 });
    }
  });

  it("a token with the query scope receives data; a mutation on that connection still needs its command scope", async () => {
    const client = wsClient(wsUrl(), headers.reader);
    const stock = collect(client, StockLevelsDocument);
    await untilSubscribed(system.redis, system.prefix, "stock-levels");
    const defined = await gql(system.url, MUTATIONS[0]!.query("ok-ws"), {}, headers["inv-bot"]);
    expect(defined.errors).toBeUndefined();
    // Other stock moves (the checkouts above) may come first.
    const mine = await eventually(async () => stock.received.find((m) => m.stockLevels.sku === "OK-WS"), "the new product's stock level");
    expect(mine.stockLevels).toMatchObject({ sku: "OK-WS", available: 1, eventType: "ProductDefined" });

    const over = await new Promise<unknown>((resolve) =>
      client.subscribe({ query: MUTATIONS[0]!.query("refused-ws") }, { next: resolve, error: resolve, complete: () => undefined }),
    );
    expect(over).toMatchObject({ errors: [{ extensions: { code: "FORBIDDEN", scope: "command:inventory" } }] });
    stock.stop();
    await client.dispose();
  });
});

describe("modes", () => {
  it("dev mode allows everything as 'dev' and says so loudly at start-up", async () => {
    const dev = await startSystem(["api", "projector", "inventory"]); // spawnRole passes AUTH_MODE=dev
    try {
      expect(dev.role("api").output()).toMatch(/WARNING: AUTH_MODE=dev, ACCESS CONTROL IS OFF/);
      const defined = await gql(dev.url, MUTATIONS[0]!.query("dev-1"));
      expect(defined.errors).toBeUndefined();
      expect(await connectionOutcome(dev.url.replace(/^http/, "ws"))).toBe("acknowledged");
      await eventually(async () => (await gql(dev.url, `{ product(id: "DEV-1") { sku } }`)).data?.product, "the product to be readable");
      const { rows } = await dev.db.pool.query("SELECT metadata->>'actor' AS actor FROM events");
      expect(rows).toEqual([{ actor: "dev" }]);
    } finally {
      expect((await dev.shutdown()).every((c) => c === 0)).toBe(true);
    }
  });

  it("production without AUTH_JWT_SECRET refuses to start, naming it", async () => {
    const api = spawnRole("api", {
      DATABASE_URL: system.db.url,
      REDIS_URL: TEST_REDIS_URL,
      EVENTLINE_PREFIX: system.prefix,
      PORT: "0",
      NODE_ENV: "production",
      AUTH_MODE: "",
      AUTH_JWT_SECRET: "",
    });
    const code = await new Promise<number | null>((r) => api.child.once("close", r)); // "close": its output is all read
    expect(code).toBe(1);
    expect(api.output()).toMatch(/AUTH_JWT_SECRET is not set and NODE_ENV=production: refusing to start/);
    expect(api.output()).not.toMatch(/ready/);
  });
});

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}
