import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { hardenHttp } from "../../src/platform/graphql/httpHardening";

/**
 * A server that answers every POST with the same small GraphQL reply, to
 * price the HTTP layers alone (`query` scenario): `MODE=node`, Node's http
 * reading and parsing the JSON body; `MODE=express`, the api's Express front
 * (`hardenHttp`: security headers, compression) and `express.json` on
 * /graphql, as `startGraphQLServer` mounts them.
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

function throughExpress(): RequestListener {
  const app = express();
  hardenHttp(app);
  app.use("/graphql", express.json({ limit: 1_000_000 }), (_req, res) => {
    res.setHeader("content-type", "application/json");
    res.setHeader("Content-Length", Buffer.byteLength(reply));
    res.end(reply);
  });
  return app;
}

const mode = process.env.MODE;
if (mode !== "node" && mode !== "express") throw new Error(`MODE must be node or express, got ${mode}`);
const server = createServer(mode === "node" ? nodeOnly() : throughExpress());
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}/graphql`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
