import { createServer, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { postSteps } from "../../src/platform/graphql/graphqlPost";
import { hardenHttp } from "../../src/platform/graphql/httpHardening";
import { endWith, pipeline } from "../../src/platform/graphql/nodeHttp";

/**
 * A server that answers every POST with the same small GraphQL reply, to
 * price the HTTP layers alone (`query` scenario): `MODE=node`, Node's http
 * reading and parsing the JSON body; `MODE=front`, the api's own front for
 * POST /graphql (`postSteps`: security headers, compression, the JSON body
 * parser and its checks) on Node's http, as `graphqlPost` runs it;
 * `MODE=express`, the same front inside Express (`hardenHttp`, `express.json`
 * on /graphql), which POST /graphql bypasses (decision 0033).
 *
 *   MODE=express node dist/bench/lib/constantServer.js
 */
const reply = JSON.stringify({
  data: { product: { id: "SKU-1", sku: "SKU-1", name: "n", priceMinor: 100, currency: "EUR", available: 10, reserved: 0, inStock: true, version: 1, position: null } },
});

function nodeOnly(): RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      JSON.parse(Buffer.concat(chunks).toString("utf8"));
      res.setHeader("content-type", "application/json");
      res.end(reply);
    });
  };
}

function sendReply(res: ServerResponse): void {
  res.setHeader("content-type", "application/json");
  endWith(res, reply);
}

function throughFront(): RequestListener {
  return pipeline(postSteps(1_000_000), async (_req, res) => sendReply(res), (_error, _req, res) => {
    res.statusCode = 500;
    res.end();
  });
}

function throughExpress(): RequestListener {
  const app = express();
  hardenHttp(app);
  app.use("/graphql", express.json({ limit: 1_000_000 }), (_req, res) => sendReply(res));
  return app;
}

const modes = { node: nodeOnly, front: throughFront, express: throughExpress };
const mode = process.env.MODE;
if (mode !== "node" && mode !== "front" && mode !== "express") throw new Error(`MODE must be node, front or express, got ${mode}`);
const server = createServer(modes[mode]());
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}/graphql`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
