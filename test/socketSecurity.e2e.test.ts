import { bearer, JWT_CLAIMS_ENV, TEST_CLAIMS, token } from "./support/auth";
import { connectionOutcome, gql, rawGraphQLSocket, wsClient } from "./support/graphqlClient";
import { eventually, startSystem, type RunningSystem } from "./support/system";
import { untilSubscribed } from "./support/testEnv";

/**
 * What a bearer token is worth over a WebSocket, against the real api,
 * projector and payments processes: a socket loses its token's rights when
 * the token expires, holds a bounded number of operations, per socket and per
 * token, and is closed when its client stops reading; tokens from another
 * issuer or for another audience, or naming a system actor, are refused.
 */
const { issuer: ISSUER, audience: AUDIENCE } = TEST_CLAIMS;
const PER_SOCKET = 50;
const PER_TOKEN = 80;
const ALL_SCOPES = "command:payments query admin";

let system: RunningSystem;
let ops: Record<string, string>;
const tok = (sub: string, scope: string, options: Parameters<typeof token>[2] = {}) =>
  token(sub, scope, { issuer: ISSUER, audience: AUDIENCE, ...options });
const wsUrl = () => system.url.replace(/^http/, "ws");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const addFunds = (customerId: string) => `mutation { addFunds(customerId: "${customerId}", amountMinor: 1) { events } }`;
const accountFeed = (customerId: string) => `subscription { accountChanged(customerId: "${customerId}") { eventType } }`;
const codeOf = (response: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => response.errors?.[0]?.extensions?.code;
const eventsBy = async (actor: string) =>
  Number((await system.db.pool.query("SELECT count(*) FROM events WHERE metadata->>'actor' = $1", [actor])).rows[0].count);
const listeners = async (customerId: string) => Number(((await system.redis.pubsub("NUMSUB", `${system.prefix}:{accounts}:topic:account:${customerId}`)) as [string, number])[1]);

beforeAll(async () => {
  system = await startSystem(["api", "projector", "payments"], {
    ...JWT_CLAIMS_ENV,
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: String(PER_SOCKET),
    WS_MAX_SUBSCRIPTIONS_PER_TOKEN: String(PER_TOKEN),
    WS_MAX_BUFFERED_BYTES: "65536",
    MAX_ALIASES: "500", // large messages, so that a stalled client fills the kernel's buffers quickly
  });
  ops = bearer(await tok("ops", ALL_SCOPES));
  for (const customerId of ["exp-acct", "lim-acct", "slow-acct", "fast-acct"]) {
    const opened = await gql(system.url, `mutation { openAccount(customerId: "${customerId}", currency: "EUR", initialBalanceMinor: 100) { position } }`, {}, ops);
    expect(opened.errors).toBeUndefined();
  }
  await eventually(async () => (await gql(system.url, `{ account(customerId: "fast-acct") { customerId } }`, {}, ops)).data?.account, "the accounts to be readable");
}, 120_000);

afterAll(async () => {
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

describe("token expiry on an open socket", () => {
  it("a socket serves its token until it expires, then is closed with 4403 and its subscription ends", async () => {
    const exp = Math.floor(Date.now() / 1000) + 6;
    const client = wsClient(wsUrl(), bearer(await tok("expiring", ALL_SCOPES, { expiresIn: exp })));
    const changes: unknown[] = [];
    const ended = new Promise<unknown>((resolve) =>
      client.subscribe({ query: accountFeed("exp-acct") }, { next: (v) => void changes.push(v), error: resolve, complete: () => resolve("complete") }),
    );
    await untilSubscribed(system.redis, system.prefix, "account:exp-acct");
    const funded = await new Promise((resolve) => client.subscribe({ query: addFunds("exp-acct") }, { next: resolve, error: resolve, complete: () => undefined }));
    expect(funded).toEqual({ data: { addFunds: { events: ["FundsAdded"] } } });
    await eventually(async () => changes.length > 0, "the change on the subscription");

    expect(await ended).toMatchObject({ code: 4403, reason: expect.stringMatching(/expired/) });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000); // closed by expiry, not before
    await eventually(async () => (await listeners("exp-acct")) === 0, "the server to drop the subscription");
    await client.dispose();
  });

  it("mutations, admin operations and subscriptions sent past expiry are refused, even by a client that ignores the close", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3;
    const late = await rawGraphQLSocket(wsUrl(), bearer(await tok("late", ALL_SCOPES, { expiresIn: exp })));
    late.socket.pause(); // it does not read: the close frame waits unseen while it keeps sending
    while (Date.now() < exp * 1000 + 500) await sleep(100);
    const statusQuery = `{ projectionStatus(name: "accounts") { activeGeneration rebuild { generation } } }`;
    const before = await gql(system.url, statusQuery, {}, ops);
    late.subscribe("funds", addFunds("exp-acct"));
    late.subscribe("rebuild", `mutation { rebuildProjection(name: "accounts") { generation } }`);
    late.subscribe("status", `{ projectionStatus { name } }`);
    late.subscribe("feed", accountFeed("exp-acct"));
    late.socket.resume();

    expect(await late.closed).toBe(4403);
    // Nothing answered with data; whatever was answered was refused as expired.
    expect(late.messages.filter((m) => m.type === "next")).toEqual([]);
    for (const m of late.messages.filter((m) => m.type === "error")) expect(m.payload).toMatchObject([{ extensions: { code: "UNAUTHENTICATED" } }]);
    await sleep(500); // room for anything that wrongly got through to land
    expect(await eventsBy("late")).toBe(0);
    expect(await gql(system.url, statusQuery, {}, ops)).toEqual(before);
  });

  it("over HTTP the same expired token is UNAUTHENTICATED, and a fresh socket with it is closed with 4401", async () => {
    const expired = bearer(await tok("late", ALL_SCOPES, { expiresIn: Math.floor(Date.now() / 1000) - 1 }));
    expect(codeOf(await gql(system.url, addFunds("exp-acct"), {}, expired))).toBe("UNAUTHENTICATED");
    expect(await connectionOutcome(wsUrl(), expired)).toBe(4401);
  });
});

describe("operations in flight", () => {
  it(`are bounded per socket (${PER_SOCKET}) and per token across its sockets (${PER_TOKEN}), with TOO_MANY_SUBSCRIPTIONS`, async () => {
    const reader = bearer(await tok("reader", "query"));
    const a = await rawGraphQLSocket(wsUrl(), reader);
    for (let i = 0; i <= PER_SOCKET; i++) a.subscribe(`a${i}`, accountFeed("lim-acct"));
    await eventually(async () => a.answer(`a${PER_SOCKET}`), "the refusal");
    expect(a.messages.filter((m) => m.type === "error").map((m) => [m.id, m.payload])).toEqual([
      [`a${PER_SOCKET}`, [expect.objectContaining({ extensions: { code: "TOO_MANY_SUBSCRIPTIONS", limit: "WS_MAX_SUBSCRIPTIONS_PER_SOCKET", max: PER_SOCKET } })]],
    ]);

    const b = await rawGraphQLSocket(wsUrl(), reader);
    const rest = PER_TOKEN - PER_SOCKET;
    for (let i = 0; i <= rest; i++) b.subscribe(`b${i}`, accountFeed("lim-acct"));
    await eventually(async () => b.answer(`b${rest}`), "the refusal");
    expect(b.answer(`b${rest}`)?.payload).toMatchObject([{ extensions: { code: "TOO_MANY_SUBSCRIPTIONS", limit: "WS_MAX_SUBSCRIPTIONS_PER_TOKEN", max: PER_TOKEN } }]);
    expect(b.messages.filter((m) => m.type === "error")).toHaveLength(1);

    // Another token has a count of its own; the accepted subscriptions are live.
    const other = wsClient(wsUrl(), bearer(await tok("reader-2", "query")));
    const seen = new Promise((resolve) => other.subscribe({ query: accountFeed("lim-acct") }, { next: resolve, error: resolve, complete: () => undefined }));
    await sleep(300); // the subscribe reaches the server before the change it waits for
    expect((await gql(system.url, addFunds("lim-acct"), {}, ops)).errors).toBeUndefined();
    expect(await seen).toMatchObject({ data: { accountChanged: { eventType: "FundsAdded" } } });
    await eventually(async () => a.messages.filter((m) => m.type === "next").length === PER_SOCKET && b.messages.filter((m) => m.type === "next").length === rest, "every accepted subscription to get the change");

    // A closed socket gives its places back to the token.
    a.socket.close();
    await a.closed;
    let probe = 0;
    await eventually(async () => {
      const id = `q${++probe}`;
      b.subscribe(id, `{ account(customerId: "lim-acct") { customerId } }`);
      await eventually(async () => b.answer(id), "an answer");
      return b.answer(id)!.type === "next";
    }, "the token's places to be given back");
    b.socket.close();
    await other.dispose();
    await eventually(async () => (await listeners("lim-acct")) === 0, "every subscription to end");
  });
});

describe("a client that stops reading", () => {
  it("is closed with 1013 once its outgoing buffer passes WS_MAX_BUFFERED_BYTES; its subscriptions end and other clients are served", async () => {
    const slow = await rawGraphQLSocket(wsUrl(), bearer(await tok("slow", "query")));
    const wide = `subscription { accountChanged(customerId: "slow-acct") { ${Array.from({ length: 400 }, (_, i) => `p${i}: position`).join(" ")} } }`;
    for (let i = 0; i < PER_SOCKET; i++) slow.subscribe(`s${i}`, wide);
    await untilSubscribed(system.redis, system.prefix, "account:slow-acct");
    const fast = wsClient(wsUrl(), bearer(await tok("fast", "query")));
    const fastChanges: unknown[] = [];
    fast.subscribe({ query: accountFeed("fast-acct") }, { next: (v) => void fastChanges.push(v), error: () => undefined, complete: () => undefined });
    await untilSubscribed(system.redis, system.prefix, "account:fast-acct");
    await sleep(300); // every subscribe of the slow socket has been taken
    slow.socket.pause();

    // Each change sends ~300 kB its way; the kernel's socket buffers take a few MB before the server's own fills.
    let changes = 0;
    while ((await listeners("slow-acct")) > 0 && changes < 100) {
      expect((await gql(system.url, addFunds("slow-acct"), {}, ops)).errors).toBeUndefined();
      changes++;
      await sleep(50);
    }
    expect(await listeners("slow-acct")).toBe(0);
    expect(system.role("api").output()).toMatch(/closed a WebSocket whose client stopped reading/);

    expect((await gql(system.url, addFunds("fast-acct"), {}, ops)).errors).toBeUndefined();
    await eventually(async () => fastChanges.length > 0, "the other client's change");
    slow.socket.resume();
    expect(await slow.closed).toBe(1013);
    await fast.dispose();
  });
});

describe("token claims", () => {
  const query = `{ account(customerId: "fast-acct") { customerId } }`;

  it("a token from another issuer, for another audience, or without them is UNAUTHENTICATED, naming the claim", async () => {
    const cases: Array<[string, Parameters<typeof token>[2], RegExp]> = [
      ["another issuer", { issuer: "https://evil.test", audience: AUDIENCE }, /claim 'iss' must be 'https:\/\/id\.eventline\.test'/],
      ["no issuer", { audience: AUDIENCE }, /claim 'iss'/],
      ["another audience", { issuer: ISSUER, audience: "billing" }, /claim 'aud' must include 'eventline-api'/],
      ["no audience", { issuer: ISSUER }, /claim 'aud'/],
    ];
    for (const [what, options, reason] of cases) {
      const header = bearer(await token("alice", "query", options));
      const response = await gql(system.url, query, {}, header);
      expect({ what, code: codeOf(response), reason: reason.test(response.errors?.[0]?.message ?? "") }).toEqual({ what, code: "UNAUTHENTICATED", reason: true });
      expect({ what, ws: await connectionOutcome(wsUrl(), header) }).toEqual({ what, ws: 4401 });
    }
    expect((await gql(system.url, query, {}, bearer(await tok("alice", "query", { audience: ["billing", AUDIENCE] })))).errors).toBeUndefined();
  });

  it("a token whose subject is a system actor is refused everywhere, and acts as nobody", async () => {
    for (const sub of ["saga:checkout", "saga-runner", "reactor:payments:orderPayment", "dev", "anonymous"]) {
      const header = bearer(await tok(sub, ALL_SCOPES));
      const response = await gql(system.url, addFunds("fast-acct"), {}, header);
      expect({ sub, code: codeOf(response), message: response.errors?.[0]?.message }).toEqual({ sub, code: "UNAUTHENTICATED", message: expect.stringMatching(/is reserved for the system/) });
      expect({ sub, ws: await connectionOutcome(wsUrl(), header) }).toEqual({ sub, ws: 4401 });
      expect(await eventsBy(sub)).toBe(0);
    }
  });
});
