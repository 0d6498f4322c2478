import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import express from "express";
import { buildSchema } from "graphql";
import { apolloHandler } from "./apolloHttp";
import { compressReplies, securityHeaders } from "./httpHardening";

const schema = buildSchema("type Query { hello(name: String!): String! }");
const rootValue = { hello: ({ name }: { name: string }) => `hello ${name}` };
let apollo: ApolloServer<{ who: string }>;
let server: Server;
let url: string;

beforeAll(async () => {
  apollo = new ApolloServer<{ who: string }>({ schema, rootValue, csrfPrevention: false });
  await apollo.start();
  const app = express();
  app.use(securityHeaders(), compressReplies());
  // As the api mounts it: GET replies through Express's `res.send`, for the ETag.
  app.use("/graphql", express.json(), apolloHandler<{ who: string }, express.Request, express.Response>(apollo, async () => ({ who: "test" }), (_req, res, body) => res.send(body)));
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await apollo.stop();
  await new Promise((r) => server.close(r));
});

it("answers a POST with the whole reply and its length, the security headers, and no ETag (nothing conditional about a POST)", async () => {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "query($n: String!) { hello(name: $n) }", variables: { n: "é" } }) });
  const body = await response.text();
  expect(response.status).toBe(200);
  expect(JSON.parse(body)).toEqual({ data: { hello: "hello é" } });
  expect(response.headers.get("content-length")).toBe(String(Buffer.byteLength(body)));
  expect(response.headers.get("content-type")).toMatch(/^application\/(graphql-response\+)?json; charset=utf-8$/);
  expect(response.headers.get("etag")).toBeNull();
  expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
});

it("keeps the ETag on a GET, which caches revalidate to 304", async () => {
  const get = `${url}?query=${encodeURIComponent("{ hello(name: \"x\") }")}#ignored`;
  const first = await fetch(get, { headers: { "apollo-require-preflight": "1" } });
  expect(await first.json()).toEqual({ data: { hello: "hello x" } });
  const etag = first.headers.get("etag");
  expect(etag).not.toBeNull();
  expect((await fetch(get, { headers: { "apollo-require-preflight": "1", "if-none-match": etag!, "cache-control": "max-age=0" } })).status).toBe(304);
});

it("answers a GraphQL error with its status", async () => {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ nope }" }) });
  expect(response.status).toBe(400);
  expect(response.headers.get("etag")).toBeNull();
});
