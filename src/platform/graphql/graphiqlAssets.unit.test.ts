import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import express from "express";
import { GRAPHIQL_ASSETS_PATH, graphiqlAssets, IMMUTABLE, STREAM_CHUNK_BYTES, streamBuffer } from "./graphiqlAssets";

const built = graphiqlAssets({ endpoint: "/graphql", title: "Test <GraphiQL>", defaultQuery: "{ __typename }" });
let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(GRAPHIQL_ASSETS_PATH, built.router);
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

it("is a small shell without inline script, naming hashed assets that exist", () => {
  expect(built.html.length).toBeLessThan(2048);
  expect(built.html).toContain("<title>Test &#60;GraphiQL&#62;</title>");
  const scripts = [...built.html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  expect(scripts.length).toBe(3);
  for (const [, attributes, body] of scripts) {
    expect(attributes).toMatch(/src="\/graphiql\/[\w.-]+\.[0-9a-f]{20}\.js"/);
    expect(body).toBe("");
  }
  const named = [...built.html.matchAll(/(?:src|href)="\/graphiql\/([^"]+)"/g)].map((m) => m[1]);
  expect(named.every((name) => built.assets.has(name!))).toBe(true);
  // The package's 9 MB: script, style, three workers and the icon, each a file of its own.
  expect([...built.assets.values()].reduce((n, a) => n + a.body.length, 0)).toBeGreaterThan(8_000_000);
});

it("serves an asset compressed as accepted, immutable, with an ETag that revalidates to 304", async () => {
  const name = [...built.assets.keys()].find((n) => n.startsWith("graphiql.") && n.endsWith(".js"))!;
  const original = built.assets.get(name)!.body;
  for (const [accept, decode] of [["br", brotliDecompressSync], ["gzip", gunzipSync]] as const) {
    const response = await fetch(`${base}${GRAPHIQL_ASSETS_PATH}/${name}`, { headers: { "accept-encoding": accept } });
    expect(response.headers.get("content-encoding")).toBe(accept);
    expect(response.headers.get("cache-control")).toBe(IMMUTABLE);
    expect(response.headers.get("vary")).toBe("Accept-Encoding");
    const compressed = await rawBody(name, accept);
    expect(compressed.length).toBeLessThan(original.length / 3);
    expect(decode(compressed).equals(original)).toBe(true);
    const etag = response.headers.get("etag")!;
    await response.arrayBuffer();
    // fetch adds `Cache-Control: no-cache` to conditional requests unless told otherwise, which forbids a 304.
    const again = await fetch(`${base}${GRAPHIQL_ASSETS_PATH}/${name}`, { headers: { "accept-encoding": accept, "if-none-match": etag, "cache-control": "max-age=0" } });
    expect(again.status).toBe(304);
  }
  const plain = await rawBody(name, "identity");
  expect(plain.equals(original)).toBe(true);
  expect((await fetch(`${base}${GRAPHIQL_ASSETS_PATH}/graphiql.0000.js`)).status).toBe(404);
});

/** The body as sent (fetch would decompress it). */
function rawBody(name: string, encoding: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const http = require("node:http") as typeof import("node:http");
    http
      .get(`${base}${GRAPHIQL_ASSETS_PATH}/${name}`, { headers: { "accept-encoding": encoding } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(Buffer.concat(chunks)));
      })
      .on("error", reject);
  });
}

it("honours backpressure: a reader that does not read holds back the stream after a chunk or two", async () => {
  const body = Buffer.alloc(4 * 1024 * 1024, 1);
  const pending: Array<() => void> = [];
  let received = 0;
  let maxBuffered = 0;
  // A destination that takes one chunk and then stops reading until told to.
  const slow = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      pending.push(callback);
    },
  });
  const done = new Promise<void>((resolve, reject) => streamBuffer(body, slow, (e) => (e ? reject(e) : resolve())));
  for (let round = 0; round < 10; round++) {
    await new Promise((r) => setImmediate(r));
    maxBuffered = Math.max(maxBuffered, slow.writableLength);
    expect(received).toBeLessThanOrEqual((round + 1) * STREAM_CHUNK_BYTES);
  }
  // Released, it gets every byte.
  const release = setInterval(() => pending.splice(0).forEach((cb) => cb()), 1);
  await done;
  clearInterval(release);
  expect(received).toBe(body.length);
  expect(maxBuffered).toBeLessThanOrEqual(2 * STREAM_CHUNK_BYTES);
});
