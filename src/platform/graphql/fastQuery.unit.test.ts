import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, type OperationDefinitionNode } from "graphql";
import { ErrorCode, NotFoundError } from "../core/errors";
import { silentLogger } from "../observability/logger";
import { AuthError, type Principal } from "./auth";
import { type RunningServer, startGraphQLServer } from "./server";

/**
 * The fast query path (fastQuery.ts) answers exactly as Express and Apollo
 * do: the same requests go to a server with it and one without, and the
 * status, headers and body must match, while the path must really have
 * answered the queries it takes (and only those).
 */
let mutations = 0;
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: "Query",
    fields: {
      hello: { type: GraphQLString, resolve: () => "hi" },
      big: { type: GraphQLString, resolve: () => "x".repeat(4000) },
      echo: { type: GraphQLInt, args: { n: { type: new GraphQLNonNull(GraphQLInt) } }, resolve: (_root, args: { n: number }) => args.n },
      missing: {
        type: GraphQLString,
        resolve: () => {
          throw new NotFoundError("product", "nope");
        },
      },
      secret: {
        type: GraphQLString,
        resolve: () => {
          throw new AuthError(ErrorCode.FORBIDDEN, "needs scope 'admin'");
        },
      },
      broken: {
        type: GraphQLString,
        resolve: () => {
          throw new Error("a bug");
        },
      },
      whoami: { type: GraphQLString, resolve: (_root, _args, ctx: { principal: Principal; waitFor: unknown }) => `${ctx.principal.subject} ${String(ctx.waitFor)}` },
    },
  }),
  mutation: new GraphQLObjectType({ name: "Mutation", fields: { touch: { type: GraphQLInt, resolve: () => (++mutations, 1) } } }),
});

const fastOperations: string[] = [];
const start = (fast: boolean) =>
  startGraphQLServer({
    schema,
    host: "127.0.0.1",
    port: 0,
    authenticate: async (authorization) => (authorization === "Bearer ada" ? { kind: "dev", subject: "ada" } : { kind: "anonymous", subject: "anonymous" }),
    context: (principal, request) => ({ principal, waitFor: request.extensions.waitFor ?? request.headers["x-eventline-wait-for"] ?? null }),
    connectionScopes: ["query"],
    webSocket: { maxPerSocket: 5, maxPerToken: 8, maxBufferedBytes: 64 * 1024 },
    limits: { maxDepth: 8, maxAliases: 15, maxCost: 20_000, maxTokens: 2000, maxDirectives: 20 },
    introspection: false,
    maxBodyBytes: 100 * 1024,
    graphiql: { title: "test", defaultQuery: "", enabled: false },
    log: silentLogger(),
    fastQueries: fast,
    onFastOperation: (operation: OperationDefinitionNode, codes) => fastOperations.push(`${operation.operation} ${codes.join(",")}`.trim()),
  });

let withFast: RunningServer;
let without: RunningServer;
beforeAll(async () => {
  [withFast, without] = await Promise.all([start(true), start(false)]);
});
afterAll(async () => {
  await Promise.all([withFast?.close(), without?.close()]);
});

/** Headers that differ between any two replies (time, connection) are left out. */
const VOLATILE = new Set(["date", "connection", "keep-alive"]);

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : new Uint8Array(body) });
  const text = await response.text(); // fetch decompresses; content-encoding stays among the headers compared
  const kept = [...response.headers].filter(([name]) => !VOLATILE.has(name)).sort(([a], [b]) => a.localeCompare(b));
  return { status: response.status, headers: Object.fromEntries(kept), text };
}

const json = (value: unknown) => JSON.stringify(value);
/** `fetch` asks for gzip by default; `identity` keeps replies uncompressed. */
const plain = { "accept-encoding": "identity" };

const cases: Array<{ name: string; body: string | Buffer; headers?: Record<string, string>; fast: string | null }> = [
  { name: "a query", body: json({ query: "{ hello }" }), headers: plain, fast: "query" },
  { name: "no accept-encoding header at all is fetch's gzip: a small reply stays plain", body: json({ query: "{ hello }" }), fast: "query" },
  { name: "variables and an operation name", body: json({ query: "query A { hello } query B($n: Int!) { echo(n: $n) }", operationName: "B", variables: { n: 7 } }), headers: plain, fast: "query" },
  { name: "a large reply, compressed", body: json({ query: "{ big }" }), headers: { "accept-encoding": "gzip" }, fast: "query" },
  { name: "a large reply, not compressed", body: json({ query: "{ big }" }), headers: plain, fast: "query" },
  { name: "a domain error", body: json({ query: "{ hello missing }" }), headers: plain, fast: "query NOT_FOUND" },
  { name: "an internal error", body: json({ query: "{ broken }" }), headers: plain, fast: "query INTERNAL" },
  { name: "refused, application/json: 200", body: json({ query: "{ secret }" }), headers: plain, fast: "query FORBIDDEN" },
  {
    name: "refused, graphql-response+json: 403",
    body: json({ query: "{ secret }" }),
    headers: { ...plain, accept: "application/graphql-response+json" },
    fast: "query FORBIDDEN",
  },
  { name: "principal and extensions reach the context", body: json({ query: "{ whoami }", extensions: { waitFor: "1.2" } }), headers: { ...plain, authorization: "Bearer ada" }, fast: "query" },
  { name: "a header reaches the context", body: json({ query: "{ whoami }" }), headers: { ...plain, "x-eventline-wait-for": "3.4" }, fast: "query" },
  { name: "a byte-order mark", body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json({ query: "{ hello }" }))]), headers: plain, fast: "query" },
  { name: "charset utf-8", body: json({ query: "{ hello }" }), headers: { ...plain, "content-type": "application/json; charset=utf-8" }, fast: "query" },
  // Handed on to Express and Apollo:
  { name: "malformed JSON", body: '{"query": ', headers: plain, fast: null },
  { name: "a mutation", body: json({ query: "mutation { touch }" }), headers: plain, fast: null },
  { name: "a validation error", body: json({ query: "{ nope }" }), headers: plain, fast: null },
  { name: "too deep", body: json({ query: `{ ${"a { ".repeat(10)}b${" }".repeat(10)} }` }), headers: plain, fast: null },
  { name: "variables that do not coerce", body: json({ query: "query($n: Int!) { echo(n: $n) }", variables: { n: "x" } }), headers: plain, fast: null },
  { name: "a persisted query", body: json({ query: "{ hello }", extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }), headers: plain, fast: null },
  { name: "an unknown key", body: json({ query: "{ hello }", other: 1 }), headers: plain, fast: null },
  { name: "no acceptable media type", body: json({ query: "{ hello }" }), headers: { ...plain, accept: "text/html" }, fast: null },
  { name: "not JSON", body: json({ query: "{ hello }" }), headers: { ...plain, "content-type": "text/plain" }, fast: null },
  { name: "a subscription", body: json({ query: "subscription { x }" }), headers: plain, fast: null },
];

describe.each(cases)("$name", ({ body, headers, fast }) => {
  it("gets the same status, headers and body with and without the fast path", async () => {
    fastOperations.length = 0;
    const expected = await post(without.url, body, headers);
    expect(fastOperations).toEqual([]);
    const actual = await post(withFast.url, body, headers);
    expect(fastOperations).toEqual(fast === null ? [] : [fast]);
    expect(actual).toEqual(expected);
  });
});

it("a mutation handed on runs once", async () => {
  const before = mutations;
  const reply = await post(withFast.url, json({ query: "mutation { touch }" }), plain);
  expect(JSON.parse(reply.text)).toEqual({ data: { touch: 1 } });
  expect(mutations).toBe(before + 1);
});
