import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";

/**
 * The graphiql benchmark's baseline: GraphiQL as the api served it before,
 * one 9 MB page with everything inlined, rendered once and sent whole to
 * each client (`res.end(string)`), uncompressed. `/rss` reports the process's
 * resident memory.
 *
 *   node dist/bench/lib/inlineGraphiqlServer.js
 */
const page = renderGraphiQL({ endpoint: "/graphql", subscriptionsProtocol: "WS", title: "GraphiQL", shouldPersistHeaders: false });
const server = createServer((req, res) => {
  if (req.url === "/rss") return res.end(String(process.memoryUsage().rss));
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.end(page);
});
server.listen(0, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
