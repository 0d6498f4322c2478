import { resolve } from "node:path";
import { print } from "graphql";
import { productsProjection } from "../projections/inventory/products/projection";
import { FIRST_GENERATION, ReadModelKeys } from "../src/platform/projection/keys";
import { ProductDocument, ProductsDocument } from "../test/graphql/generated";
import { testRedis, TEST_REDIS_URL } from "../test/support/testEnv";
import { spawnNode } from "./lib/child";
import { benchSystem } from "./lib/env";
import { dataOf, type GraphQLBody, JsonClient } from "./lib/http";
import { benchSku, seedInventoryLog } from "./lib/inventoryEvents";
import { closedLoop, type LoadResult } from "./lib/load";
import { projectAll } from "./lib/project";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat, summarize } from "./lib/stats";

/**
 * GraphQL queries/s and p99 against the api process, reading the products
 * read model from Redis: `product(id)` and the first page of
 * `products(first: 20)`. Baseline: a plain Node HTTP server process doing the
 * same Redis reads (bench/lib/plainServer.ts), driven by the same client.
 */
type QueryKind = "product" | "products";

export const queryScenario: Scenario = {
  name: "query",
  summary: "GraphQL product(id) and products(first: 20) queries/s, p99; baseline: plain Node HTTP handler, same Redis reads",
  flags: {
    seconds: "duration of each measurement in seconds (default 5; 3 in the suite)",
    concurrency: "concurrent HTTP clients, comma-separated (default 1,16; 16 in the suite)",
    queries: "product and/or products, default both",
  },
  async run(ctx) {
    const seconds = ctx.args.int("seconds", { single: 5, suite: 3, smoke: 1 }, ctx.mode);
    const concurrencies = ctx.args.intList("concurrency", { single: [1, 16], suite: [16], smoke: [4] }, ctx.mode);
    const kinds = ctx.args.choiceList<QueryKind>("queries", ["product", "products"], { single: ["product", "products"], smoke: ["product", "products"] }, ctx.mode);
    const products = ctx.mode === "smoke" ? 50 : 1000;
    const durationMs = ctx.mode === "smoke" ? 300 : seconds * 1000;

    ctx.progress("starting the api process");
    const system = await benchSystem(["api"]);
    const redis = testRedis();
    let plain: Awaited<ReturnType<typeof spawnNode>> | null = null;
    const graphql = new JsonClient(system.url);
    try {
      ctx.progress(`seeding and projecting ${products} products`);
      await seedInventoryLog(system.db.pool, { events: products * 4, products });
      await projectAll(redis, system.db.store, new ReadModelKeys(system.prefix), productsProjection, FIRST_GENERATION, products * 4);
      plain = await spawnNode(
        resolve(__dirname, "lib/plainServer.js"),
        { REDIS_URL: TEST_REDIS_URL, EVENTLINE_PREFIX: system.prefix },
        /listening on (http:\S+)/,
      );
      const baseline = new JsonClient(plain.ready);
      const productQuery = print(ProductDocument);
      const productsQuery = print(ProductsDocument);
      const sku = () => benchSku(Math.floor(Math.random() * products));

      const ops: Record<QueryKind, { graphql: () => Promise<unknown>; plain: () => Promise<unknown> }> = {
        product: {
          graphql: async () => check(dataOf(await graphql.post<GraphQLBody>({ query: productQuery, variables: { id: sku() } })).product),
          plain: async () => check(dataOf(await baseline.post<GraphQLBody>({ id: sku() }, "/product")).product),
        },
        products: {
          graphql: async () => check(dataOf(await graphql.post<GraphQLBody>({ query: productsQuery, variables: { first: 20 } })).products),
          plain: async () => check(dataOf(await baseline.post<GraphQLBody>({ first: 20 }, "/products")).products),
        },
      };

      for (const kind of kinds) {
        for (const concurrency of concurrencies) {
          const label = `${kind === "product" ? "product(id)" : "products(first: 20)"}, ${concurrency} clients`;
          const load = (op: () => Promise<unknown>, ms: number) => closedLoop({ concurrency, durationMs: ms, op });
          const measure = async (ms: number, graphqlFirst: boolean) => {
            let g: LoadResult;
            let p: LoadResult;
            if (graphqlFirst) {
              g = await load(ops[kind].graphql, ms);
              p = await load(ops[kind].plain, ms);
            } else {
              p = await load(ops[kind].plain, ms);
              g = await load(ops[kind].graphql, ms);
            }
            const gs = summarize(g.latencies);
            const ps = summarize(p.latencies);
            return { rate: g.ops / g.seconds, p99: gs.p99, baseRate: p.ops / p.seconds, baseP99: ps.p99 };
          };
          await measure(Math.min(500, durationMs), true); // JIT and connections
          const m = medianOf(
            await repeat(ctx.runs, (run) => {
              ctx.progress(`${label}: run ${run + 1}/${ctx.runs}`);
              return measure(durationMs, run % 2 === 0);
            }),
          );
          const params = { query: kind, concurrency, seconds: durationMs / 1000, products, runs: ctx.runs };
          ctx.emit({ label, value: m.rate, unit: "queries/s", baseline: m.baseRate, params, target: { on: "ratio", op: ">=", threshold: 0.5 } });
          ctx.emit({ label: `${label}, p99`, value: m.p99, unit: "ms", baseline: m.baseP99, params: { ...params, stat: "p99" } });
        }
      }
      baseline.close();
    } finally {
      graphql.close();
      await plain?.stop();
      await redis.quit();
      await system.release();
    }
  },
};

function check(value: unknown): unknown {
  if (value === null || value === undefined) throw new Error("query returned no data: the read model is not populated");
  return value;
}
