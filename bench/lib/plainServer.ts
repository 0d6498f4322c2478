import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRedis } from "../../src/platform/core/redis";
import { parseGeneration, ReadModelKeys } from "../../src/platform/projection/keys";

/**
 * The query benchmark's baseline: a plain Node HTTP handler doing the same
 * Redis reads as the API's `product(id)` (GET document) and `products(first)`
 * (ZRANGE BYLEX, MGET, ZCARD), the active pointer cached for a second as the
 * api caches it, with no
 * GraphQL, Express or Apollo in between. Run as its own process, like the API.
 *
 *   REDIS_URL=... EVENTLINE_PREFIX=... node dist/bench/lib/plainServer.js
 */
const SEPARATOR = "\u0000";

async function main() {
  const prefix = process.env.EVENTLINE_PREFIX;
  const redisUrl = process.env.REDIS_URL;
  if (!prefix || !redisUrl) throw new Error("plainServer needs EVENTLINE_PREFIX and REDIS_URL");
  const keys = new ReadModelKeys(prefix);
  const redis = createRedis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // The api caches the active pointer in process and reads it again at most once a second (decision
  // 0018), so its product(id) is one GET: the baseline makes the same reads.
  let pointer: { generation: number; at: number } | null = null;
  const active = async () => {
    if (!pointer || Date.now() - pointer.at > 1000) pointer = { generation: parseGeneration(await redis.get(keys.activeGeneration("products"))), at: Date.now() };
    return keys.generation("products", pointer.generation);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id?: string; first?: number };
        const gen = await active();
        let data: unknown;
        if (req.url === "/product") {
          const raw = await redis.get(gen.doc(String(body.id)));
          data = { product: raw === null ? null : JSON.parse(raw) };
        } else {
          const first = body.first ?? 20;
          const index = gen.index("bySku");
          const [members, total] = await Promise.all([redis.zrange(index, "-", "+", "BYLEX", "LIMIT", 0, first + 1), redis.zcard(index)]);
          const page = members.slice(0, first);
          const docs = page.length ? await redis.mget(page.map((m) => gen.doc(m.slice(m.lastIndexOf(SEPARATOR) + 1)))) : [];
          data = {
            products: {
              edges: page.map((m, i) => {
                // The same fields the GraphQL query selects.
                const { sku, name, available } = JSON.parse(docs[i] ?? "{}") as Record<string, unknown>;
                return { cursor: Buffer.from(m).toString("base64url"), node: { sku, name, available } };
              }),
              pageInfo: { hasNextPage: members.length > first, endCursor: page.length ? Buffer.from(page.at(-1)!).toString("base64url") : null },
              totalCount: total,
            },
          };
        }
        const out = JSON.stringify({ data });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
        res.end(out);
      })().catch((error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  console.log(`plain server listening on http://127.0.0.1:${port}`);
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    void redis.quit().finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
