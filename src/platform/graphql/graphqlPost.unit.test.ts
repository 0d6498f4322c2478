import { request } from "node:http";
import { gunzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { startToyGraphQLServer } from "../../../test/support/toyGraphQLServer";
import type { RunningServer } from "./server";

/**
 * POST /graphql skips Express (graphqlPost.ts); the Express route still
 * answers the path's other spellings, such as /graphql/. Both ways into one
 * real server must answer every request alike.
 */
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: "Query",
    fields: {
      hello: { type: new GraphQLNonNull(GraphQLString), args: { name: { type: new GraphQLNonNull(GraphQLString) } }, resolve: (_root, args: { name: string }) => `hello ${args.name}` },
      big: { type: new GraphQLNonNull(GraphQLString), args: { n: { type: new GraphQLNonNull(GraphQLInt) } }, resolve: (_root, args: { n: number }) => "x".repeat(args.n) },
    },
  }),
});
const MAX_BODY_BYTES = 2_000;
let server: RunningServer;
let leanUrl: string;
let expressUrl: string;

beforeAll(async () => {
  server = await startToyGraphQLServer(schema, { maxBodyBytes: MAX_BODY_BYTES });
  leanUrl = server.url;
  expressUrl = `${server.url}/`;
});

afterAll(() => server.close());

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A POST on Node's http (fetch would decompress and hide what was sent), with every header of the answer but its date. */
function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const raw = Buffer.concat(chunks);
        const all: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) if (name !== "date" && typeof value === "string") all[name] = value;
        const text = (res.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: all, body: text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const json = { "content-type": "application/json" };
const query = "{ hello(name: \"é\") }";
const cases: Array<[string, string, Record<string, string>]> = [
  ["a query", JSON.stringify({ query }), json],
  ["a query asking for graphql-response+json", JSON.stringify({ query }), { ...json, accept: "application/graphql-response+json" }],
  ["a reply large enough to compress", JSON.stringify({ query: "{ big(n: 1500) }" }), { ...json, "accept-encoding": "gzip" }],
  ["a validation error", JSON.stringify({ query: "{ nope }" }), json],
  ["an introspection query, which this server refuses", JSON.stringify({ query: "{ __schema { queryType { name } } }" }), json],
  ["a body that is not JSON by type", JSON.stringify({ query }), { "content-type": "text/plain" }],
  ["malformed JSON", "{ query", json],
  ["a body over the limit", JSON.stringify({ query, padding: "p".repeat(MAX_BODY_BYTES) }), json],
  ["a persisted query whose hash is not its own", JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }), json],
  [
    "a persisted query with its hash",
    JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: createHash("sha256").update(query).digest("hex") } } }),
    json,
  ],
];

describe("POST /graphql without Express", () => {
  it.each(cases)("answers %s exactly as the Express route (/graphql/) does: status, headers and body", async (_name, body, headers) => {
    const [lean, viaExpress] = await Promise.all([post(leanUrl, body, headers), post(expressUrl, body, headers)]);
    expect(lean).toEqual(viaExpress);
  });

  it("answers with the security headers, the reply's length and no ETag", async () => {
    const answer = await post(leanUrl, JSON.stringify({ query }), json);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ data: { hello: "hello é" } });
    expect(answer.headers["content-length"]).toBe(String(Buffer.byteLength(answer.body)));
    expect(answer.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    expect(answer.headers["etag"]).toBeUndefined();
  });

  it("compresses a large reply for a client that accepts it, and refuses what Express refused, with typed codes", async () => {
    const big = await post(leanUrl, JSON.stringify({ query: "{ big(n: 1500) }" }), { ...json, "accept-encoding": "gzip" });
    expect(big.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(big.body).data.big).toHaveLength(1500);
    const refusals = await Promise.all([
      post(leanUrl, "{}", { "content-type": "text/plain" }),
      post(leanUrl, "{ query", json),
      post(leanUrl, JSON.stringify({ padding: "p".repeat(MAX_BODY_BYTES) }), json),
    ]);
    expect(refusals.map((r) => [r.status, JSON.parse(r.body).errors[0].extensions.code])).toEqual([
      [415, "UNSUPPORTED_MEDIA_TYPE"],
      [400, "BAD_REQUEST"],
      [413, "PAYLOAD_TOO_LARGE"],
    ]);
  });
});
