import { resolve } from "node:path";
import { print } from "graphql";
import { productsProjection } from "../projections/inventory/products/projection";
import { FIRST_GENERATION, ReadModelKeys } from "../src/platform/projection/keys";
import { ProductDocument, ProductsDocument } from "../test/graphql/generated";
import { Redis } from "ioredis";
import { spawnNode } from "./lib/child";
import { apolloCpuPerRequest } from "./lib/apolloAlone";
import { benchSystem } from "./lib/env";
import { dataOf, type GraphQLBody, JsonClient } from "./lib/http";
import { benchSku, seedInventoryLog } from "./lib/inventoryEvents";
import { processes, withCpu, type CpuSplit } from "./lib/cpuMeter";
import { cpuPerOp, emitCpu } from "./lib/cpuReport";
import { closedLoop, type LoadResult, warmUp } from "./lib/load";
import { startPrivateRedis } from "./lib/privateRedis";
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

    ctx.progress("starting a Redis of this run's own and the api process");
    const redisServer = await startPrivateRedis();
    const system = await benchSystem(["api"], { REDIS_URL: redisServer.url }).catch(async (error: unknown) => {
      await redisServer.stop();
      throw error;
    });
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    let plain: Awaited<ReturnType<typeof spawnNode>> | null = null;
    const graphql = new JsonClient(system.url);
    try {
      ctx.progress(`seeding and projecting ${products} products`);
      await seedInventoryLog(system.db.pool, { events: products * 4, products });
      await projectAll(redis, system.db.store, new ReadModelKeys(system.prefix), productsProjection, FIRST_GENERATION, products * 4);
      plain = await spawnNode(
        resolve(__dirname, "lib/plainServer.js"),
        { REDIS_URL: redisServer.url, EVENTLINE_PREFIX: system.prefix },
        /listening on (http:\S+)/,
      );
      const baseline = new JsonClient(plain.ready);
      const plainPid = plain.pid;
      // Each server's CPU and Redis's; this process is only the client of both.
      const apiCpu = [processes("api", () => [system.role("api").child.pid]), processes("redis", () => [redisServer.pid])];
      const plainCpu = [processes("plain", () => [plainPid]), processes("redis", () => [redisServer.pid])];
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
            let g: { value: LoadResult; cpu: CpuSplit };
            let p: { value: LoadResult; cpu: CpuSplit };
            if (graphqlFirst) {
              g = await withCpu(apiCpu, () => load(ops[kind].graphql, ms));
              p = await withCpu(plainCpu, () => load(ops[kind].plain, ms));
            } else {
              p = await withCpu(plainCpu, () => load(ops[kind].plain, ms));
              g = await withCpu(apiCpu, () => load(ops[kind].graphql, ms));
            }
            const gs = summarize(g.value.latencies);
            const ps = summarize(p.value.latencies);
            return {
              rate: g.value.ops / g.value.seconds, p99: gs.p99, baseRate: p.value.ops / p.value.seconds, baseP99: ps.p99,
              ...cpuPerOp(g.cpu, g.value.ops, "cpu", "µs"), ...cpuPerOp(p.cpu, p.value.ops, "baseCpu", "µs"),
            };
          };
          ctx.progress(`${label}: warming both servers up (${ctx.warmupMs / 1000} s each)`);
          await warmUp(concurrency, ctx.warmupMs, ops[kind].graphql);
          await warmUp(concurrency, ctx.warmupMs, ops[kind].plain);
          const m = medianOf(
            await repeat(ctx.runs, (run) => {
              ctx.progress(`${label}: run ${run + 1}/${ctx.runs}`);
              return measure(durationMs, run % 2 === 0);
            }),
          );
          const params = { query: kind, concurrency, seconds: durationMs / 1000, products, runs: ctx.runs };
          ctx.emit({ label, value: m.rate, unit: "queries/s", baseline: m.baseRate, params, target: { on: "ratio", op: ">=", threshold: 0.7 } });
          ctx.emit({ label: `${label}, p99`, value: m.p99, unit: "ms", baseline: m.baseP99, params: { ...params, stat: "p99" } });
          emitCpu(ctx, { label, op: "query", scale: "µs", figures: m, baselineKey: "baseCpu", params });
          const figures: Record<string, number> = m;
          const handlerCpu = figures.baseCpu;
          if (kind === "product" && handlerCpu) {
            // What any api on @apollo/server pays on top of the plain handler, and the ratio that leaves at best
            // once the cores are saturated: plain / (plain + Apollo's pipeline).
            const requests = ctx.mode === "smoke" ? 50 : 20_000;
            const apollo = await apolloCpuPerRequest(productQuery, { concurrency, requests, warmupMs: ctx.warmupMs });
            ctx.emit({ label: `${label}, Apollo's pipeline alone`, value: apollo, unit: "µs CPU/query", baseline: handlerCpu, params: { ...params, stat: "apollo" } });
            ctx.emit({ label: `${label}, ceiling with Apollo`, value: handlerCpu / (handlerCpu + apollo), unit: "ratio", baseline: null, params: { ...params, stat: "ceiling" } });
            // The api's POST front (postSteps on Node's http), and the same steps inside Express, which POST
            // /graphql bypasses (decision 0033), against Node's http alone, all three answering a constant.
            // /proc counts in clock ticks: a smoke run needs a thousand requests to read more than nothing.
            const layer = { concurrency, requests: Math.max(requests, 1000), warmupMs: ctx.warmupMs, body: { query: productQuery, variables: { id: "SKU-1" } } };
            const viaNode = await constantServerCpu("node", layer);
            for (const [mode, name] of [["front", "the api's POST front"], ["express", "Express front"]] as const) {
              const front = await constantServerCpu(mode, layer);
              if (viaNode <= 0 || front <= 0) continue;
              ctx.emit({ label: `${label}, ${name} alone`, value: front, unit: "µs CPU/request", baseline: viaNode, params: { ...params, stat: mode } });
              const ceiling = handlerCpu / (handlerCpu + apollo + Math.max(0, front - viaNode));
              ctx.emit({ label: `${label}, ceiling with ${name} and Apollo`, value: ceiling, unit: "ratio", baseline: null, params: { ...params, stat: `ceiling-${mode}` } });
            }
          }
        }
      }
      baseline.close();
    } finally {
      graphql.close();
      await plain?.stop();
      await redis.quit();
      await system.release();
      await redisServer.stop();
    }
  },
};

function check(value: unknown): unknown {
  if (value === null || value === undefined) throw new Error("query returned no data: the read model is not populated");
  return value;
}

/** CPU µs per request of `bench/lib/constantServer.js` in `mode`, after `warmupMs` of the same load. */
async function constantServerCpu(
  mode: "node" | "front" | "express",
  options: { concurrency: number; requests: number; warmupMs: number; body: unknown },
): Promise<number> {
  const server = await spawnNode(resolve(__dirname, "lib/constantServer.js"), { MODE: mode }, /listening on (http:\S+)/);
  const client = new JsonClient(server.ready);
  try {
    const op = () => client.post(options.body);
    await warmUp(options.concurrency, options.warmupMs, op);
    const { value, cpu } = await withCpu([processes(mode, () => [server.pid])], () => closedLoop({ concurrency: options.concurrency, total: options.requests, op }));
    return (cpu.total * 1000) / value.ops;
  } finally {
    client.close();
    await server.stop();
  }
}
