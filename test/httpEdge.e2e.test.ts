import { createHash } from "node:crypto";
import { ApolloClient, gql as apolloGql, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { bearer, JWT_ENV, token } from "./support/auth";
import { gql, post, wsClient } from "./support/graphqlClient";
import { telemetryUrlIn } from "./support/logs";
import { startSystem, type RunningSystem } from "./support/system";

/**
 * The HTTP edge, against a started system in production mode with access
 * control on: GraphiQL's delivery, security headers, the metrics token,
 * status codes and media types, persisted queries and GET.
 */
const METRICS_TOKEN = "metrics-token-0123456789";
let system: RunningSystem;
let origin: string;
let reader: Record<string, string>;
let admin: Record<string, string>;

beforeAll(async () => {
  system = await startSystem(["all"], { ...JWT_ENV, METRICS_TOKEN });
  origin = new URL(system.url).origin;
  reader = bearer(await token("reader", "query"));
  admin = bearer(await token("ops", "admin query command:inventory"));
}, 90_000);

afterAll(async () => {
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const GRAPHQL_RESPONSE = "application/graphql-response+json";

describe("GraphiQL (A, I)", () => {
  it("is a small shell of hashed, immutable, compressed assets, revalidated by ETag", async () => {
    const shell = await fetch(system.url, { headers: { accept: "text/html" } });
    expect(shell.status).toBe(200);
    expect(shell.headers.get("cache-control")).toBe("no-cache");
    const html = await shell.text();
    expect(html.length).toBeLessThan(2048); // was 9 MB, inlined, per response
    const etag = shell.headers.get("etag")!;
    expect((await fetch(system.url, { headers: { accept: "text/html", "if-none-match": etag, "cache-control": "max-age=0" } })).status).toBe(304);

    const assets = [...html.matchAll(/(?:src|href)="(\/graphiql\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBe(5);
    for (const path of assets) {
      expect(path).toMatch(/\.[0-9a-f]{20}\.(js|css|ico)$/);
      const response = await fetch(`${origin}${path}`, { headers: { "accept-encoding": "br, gzip" } });
      expect({ path, status: response.status, cache: response.headers.get("cache-control") }).toEqual({ path, status: 200, cache: "public, max-age=31536000, immutable" });
      if (!path.endsWith(".ico")) expect(response.headers.get("content-encoding")).toBe("br");
      const assetTag = response.headers.get("etag")!;
      await response.arrayBuffer();
      const again = await fetch(`${origin}${path}`, { headers: { "accept-encoding": "br, gzip", "if-none-match": assetTag, "cache-control": "max-age=0" } });
      expect(again.status).toBe(304);
    }
  });

  it("is off in production unless GRAPHIQL_ENABLED=true; /metrics moves to METRICS_PORT, bound to METRICS_HOST", async () => {
    const bare = await startSystem(["api"], { GRAPHIQL_ENABLED: "", METRICS_PORT: "0", METRICS_HOST: "127.0.0.1" });
    try {
      expect(bare.role("api").output()).toMatch(/GraphQL at http:\S+ \(HTTP and WebSocket; GraphiQL is off/);
      const page = await fetch(bare.url, { headers: { accept: "text/html" } });
      expect(page.status).toBe(404);
      expect(await page.json()).toMatchObject({ errors: [{ extensions: { code: "NOT_FOUND" }, message: expect.stringContaining("GRAPHIQL_ENABLED") }] });
      expect((await fetch(`${new URL(bare.url).origin}/graphiql/graphiql.js`)).status).toBe(404);
      // A browser may still run a GET query: only the page is off.
      expect(await (await fetch(`${bare.url}?query=${encodeURIComponent("{ __typename }")}`, { headers: { accept: "text/html,*/*;q=0.8" } })).json()).toEqual({ data: { __typename: "Query" } });

      const apiOrigin = new URL(bare.url).origin;
      const telemetry = telemetryUrlIn(bare.role("api").output())!;
      expect(telemetry).not.toBe(apiOrigin);
      expect(telemetry).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${apiOrigin}/metrics`)).status).toBe(404);
      expect((await fetch(`${apiOrigin}/health`)).status).toBe(200);
      expect((await fetch(`${telemetry}/metrics`)).status).toBe(200);
    } finally {
      expect((await bare.shutdown()).every((c) => c === 0)).toBe(true);
    }
  }, 90_000);
});

describe("/metrics (B)", () => {
  it("answers only the metrics token; /health and /ready stay open for probes", async () => {
    const anonymous = await fetch(`${origin}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await anonymous.text()).not.toMatch(/eventline_|nodejs_version/);
    expect((await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${origin}/metrics`, { headers: admin })).status).toBe(401); // an api token is not the metrics token
    const scraped = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/eventline_process_/);
    expect((await fetch(`${origin}/health`)).status).toBe(200);
  });
});

describe("security headers (C)", () => {
  const pages = () => [
    { path: "/graphql", headers: { accept: "text/html" } },
    { path: "/graphql", headers: { "content-type": "application/json" }, method: "POST", body: JSON.stringify({ query: "{ __typename }" }) },
    { path: "/dashboard/", headers: {} },
    { path: "/admin/queues", headers: admin },
  ];

  it("every page and reply has a CSP without inline or eval script, nosniff, no framing and no X-Powered-By", async () => {
    for (const { path, ...init } of pages()) {
      const response = await fetch(`${origin}${path}`, init);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      const csp = response.headers.get("content-security-policy") ?? "";
      const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? /default-src ([^;]*)/.exec(csp)?.[1];
      expect({ path, scriptSrc }).toEqual({ path, scriptSrc: "'self'" });
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("x-powered-by")).toBeNull();
    }
  });

  it("Bull Board's page runs without inline script and loads nothing from another origin", async () => {
    const html = await (await fetch(`${origin}/admin/queues`, { headers: admin })).text();
    const inline = [...html.matchAll(/<script\b(?![^>]*\bsrc=)(?![^>]*type="application\/json")[^>]*>/g)];
    expect(inline).toEqual([]);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });
});

describe("schema names (D)", () => {
  it("errors suggest no names in production, over HTTP and WebSocket", async () => {
    const mistyped = await gql(system.url, "mutation { rebuildProjectio(name: \"products\") { name } }", {}, admin);
    expect(mistyped.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(mistyped.errors?.[0]?.message).not.toMatch(/Did you mean|rebuildProjection/);
    const badEnum = await gql(system.url, "query($v: ProductSort!) { products(sort: $v) { totalCount } }", { v: "PRICE" }, reader);
    expect(badEnum.errors?.[0]?.message).toMatch(/ProductSort/);
    expect(badEnum.errors?.[0]?.message).not.toMatch(/Did you mean/);

    const client = wsClient(system.url.replace(/^http/, "ws"), reader);
    try {
      const errors = await new Promise<unknown>((resolve) => {
        client.subscribe({ query: "{ prodcts(first: 1) { totalCount } }" }, { next: () => undefined, error: resolve, complete: () => resolve(null) });
      });
      expect(JSON.stringify(errors)).toMatch(/Cannot query field/);
      expect(JSON.stringify(errors)).not.toMatch(/Did you mean|"products"/);
    } finally {
      await client.dispose();
    }
  });
});

describe("status codes and media types (E, F, G)", () => {
  it("a persisted query with the wrong hash gets a typed 400, and no stack trace in the log", async () => {
    const query = "{ __typename }";
    const response = await post(system.url, { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256("{ other }") } } }, reader);
    expect(response.status).toBe(400);
    expect(response.json?.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_HASH_MISMATCH");
    expect(system.role("all").output()).not.toMatch(/internal error/);
  });

  it("with application/graphql-response+json a refused operation is 401 or 403; application/json stays 200", async () => {
    const query = { query: "{ products(first: 1) { totalCount } }" };
    const anonymous = await post(system.url, query, { accept: GRAPHQL_RESPONSE });
    expect([anonymous.status, anonymous.contentType, anonymous.json?.errors?.[0]?.extensions?.code]).toEqual([401, `${GRAPHQL_RESPONSE}; charset=utf-8`, "UNAUTHENTICATED"]);
    const writer = bearer(await token("writer", "command:inventory"));
    const forbidden = await post(system.url, query, { accept: GRAPHQL_RESPONSE, ...writer });
    expect([forbidden.status, forbidden.json?.errors?.[0]?.extensions?.code]).toEqual([403, "FORBIDDEN"]);
    const mutation = await post(system.url, { query: 'mutation { restockProduct(sku: "NOPE-1", quantity: 1) { position } }' }, { accept: GRAPHQL_RESPONSE, ...reader });
    expect(mutation.status).toBe(403);
    for (const accept of ["application/json", "*/*"]) {
      const legacy = await post(system.url, query, { accept });
      expect([legacy.status, legacy.contentType, legacy.json?.errors?.[0]?.extensions?.code]).toEqual([200, "application/json; charset=utf-8", "UNAUTHENTICATED"]);
    }
    expect((await post(system.url, query, { accept: GRAPHQL_RESPONSE, ...reader })).status).toBe(200);
  });

  it("refusals made before GraphQL (400 malformed JSON, 415 media type, 413) answer in the media type asked for", async () => {
    const cases: Array<[string, Record<string, string>, number]> = [
      ["{ not json", {}, 400],
      ["{\"query\": \"{ __typename }\"}", { "content-type": "text/plain" }, 415],
      [JSON.stringify({ query: "{ __typename }", pad: "a".repeat(200 * 1024) }), {}, 413],
    ];
    for (const [body, headers, status] of cases) {
      for (const [accept, type] of [[GRAPHQL_RESPONSE, GRAPHQL_RESPONSE], ["application/json", "application/json"], [undefined, "application/json"]] as const) {
        const response = await post(system.url, body, { ...headers, ...(accept ? { accept } : {}) });
        expect({ status: response.status, type: response.contentType }).toEqual({ status, type: `${type}; charset=utf-8` });
        expect(response.json?.errors?.[0]?.extensions?.code).toEqual(expect.any(String));
      }
    }
  });
});

describe("GET and persisted queries (H)", () => {
  it("runs GET queries without a custom header (graphql-http audits 5A70, D6D5, 6A70)", async () => {
    const get = (search: string, accept?: string) => fetch(`${system.url}?${search}`, { headers: accept ? { accept } : {} });
    const plain = await get(`query=${encodeURIComponent("{ __typename }")}`);
    expect([plain.status, await plain.json()]).toEqual([200, { data: { __typename: "Query" } }]);
    expect(plain.headers.get("cache-control")).toBe("no-store"); // no field declares a cache hint yet
    const withVariables = `query=${encodeURIComponent("query ($v: Boolean!) { __typename @include(if: $v) }")}&variables=${encodeURIComponent(JSON.stringify({ v: true }))}`;
    for (const accept of [GRAPHQL_RESPONSE, "application/json"]) {
      const response = await get(withVariables, accept);
      expect([response.status, response.headers.get("content-type"), await response.json()]).toEqual([200, `${accept}; charset=utf-8`, { data: { __typename: "Query" } }]);
    }
  });

  it("never runs a mutation over GET, not even a persisted one", async () => {
    const events = async () => Number((await system.db.pool.query("SELECT count(*) FROM events")).rows[0].count);
    const before = await events();
    const mutation = 'mutation { defineProduct(input: { sku: "GET-1", name: "g", priceMinor: 1, currency: "EUR", initialStock: 1 }) { position } }';
    const direct = await fetch(`${system.url}?query=${encodeURIComponent(mutation)}`, { headers: admin });
    expect([direct.status, direct.headers.get("allow")]).toEqual([405, "POST"]);
    // Registered by a POST, which access control then refuses (a bad token): Apollo stores the hash before execution.
    const hash = sha256(mutation);
    const registered = await post(system.url, { query: mutation, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, { authorization: "Bearer nope" });
    expect(registered.json?.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const extensions = encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } }));
    const persisted = await fetch(`${system.url}?extensions=${extensions}`, { headers: admin });
    expect(persisted.status).toBe(405);
    expect(await events()).toBe(before);
  });

  it("Apollo Client's persisted-query link sends hashes over GET, registers misses once, and mutates over POST", async () => {
    const calls: Array<{ method: string; hashOnly: boolean; status: number }> = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = new URL(String(input));
      calls.push({ method: init?.method ?? "GET", hashOnly: url.searchParams.has("extensions") && !url.searchParams.has("query"), status: response.status });
      return response;
    };
    const link = new PersistedQueryLink({ sha256: (query: string) => sha256(query), useGETForHashedQueries: true }).concat(
      new HttpLink({ uri: system.url, fetch: recording, headers: admin }),
    );
    const client = new ApolloClient({ link, cache: new InMemoryCache() });
    const products = apolloGql`query ClientProducts { products(first: 5) { totalCount } }`;

    const first = await client.query({ query: products, fetchPolicy: "network-only" });
    expect(first.data).toMatchObject({ products: { totalCount: expect.any(Number) } });
    expect(calls.map((c) => [c.method, c.hashOnly])).toEqual([["GET", true], ["POST", false]]); // a miss, then the query registered
    calls.length = 0;
    const second = await client.query({ query: products, fetchPolicy: "network-only" });
    expect(second.data).toEqual(first.data);
    expect(calls).toEqual([{ method: "GET", hashOnly: true, status: 200 }]); // a hit: cacheable by URL

    calls.length = 0;
    const defined = await client.mutate({
      mutation: apolloGql`mutation ClientDefine { defineProduct(input: { sku: "APQ-1", name: "apq", priceMinor: 1, currency: "EUR", initialStock: 1 }) { position } }`,
    });
    expect(defined.data).toMatchObject({ defineProduct: { position: expect.stringMatching(/^\d+\.\d+$/) } });
    expect(calls.every((c) => c.method === "POST")).toBe(true);
    client.stop();
  });
});
