import { print } from "graphql";
import { CommandHandler } from "../src/platform/aggregate/commandHandler";
import { EventStore } from "../src/platform/eventstore/eventStore";
import { createPool } from "../src/platform/eventstore/pool";
import type { InventoryCommand } from "../src/services/inventory/commands";
import { productDecider, productStreamId } from "../src/services/inventory/decider";
import { RestockProductDocument } from "../test/graphql/generated";
import { PRODUCTS } from "../projections/inventory/products/projection";
import { HISTORY } from "../src/platform/projection/historyProjection";
import { ReadModelKeys } from "../src/platform/projection/keys";
import { benchSystem } from "./lib/env";
import { dataOf, type GraphQLBody, JsonClient } from "./lib/http";
import { benchSku, multiRowInsert, productDefined, rawRow } from "./lib/inventoryEvents";
import { postgresBackends, processes, thisProcess, withCpu } from "./lib/cpuMeter";
import { cpuPerOp, emitCpu } from "./lib/cpuReport";
import { closedLoop, type LoadResult, warmUp } from "./lib/load";
import { projectedToHead } from "./lib/project";
import { startPrivateRedis } from "./lib/privateRedis";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat, summarize } from "./lib/stats";

/**
 * Mutations/s and latency over HTTP: N clients, each sending `restockProduct`
 * (one event on a random product; `reserveStock`, measured before, is no longer a mutation)
 * and waiting for its answer, with api, projector and inventory as separate
 * processes (api → BullMQ → inventory → PostgreSQL → reply through BullMQ).
 * Baseline: the same commands through CommandHandler in this process, at the
 * same concurrency, against the same database: what the transport costs.
 * Both paths are warmed up first (`--warmup`), and each one's CPU counts the
 * projection of its events (the projector's, which runs for both).
 */
export const graphqlMutationScenario: Scenario = {
  name: "graphql-mutation",
  summary: "restockProduct mutations/s, p50/p99 over HTTP (api+projector+inventory processes); baseline: CommandHandler in process",
  flags: {
    mutations: "mutations per measurement (default 2000; 600 in the suite)",
    concurrency: "concurrent HTTP clients, comma-separated (default 1,8,32; 8 in the suite)",
  },
  async run(ctx) {
    const mutations = ctx.args.int("mutations", { single: 2000, suite: 600, smoke: 20 }, ctx.mode);
    const concurrencies = ctx.args.intList("concurrency", { single: [1, 8, 32], suite: [8], smoke: [4] }, ctx.mode);
    const products = ctx.mode === "smoke" ? 20 : 500;

    ctx.progress("starting a Redis of this run's own, then api, projector and inventory processes");
    const roles = ["api", "projector", "inventory"];
    const redisServer = await startPrivateRedis();
    const system = await benchSystem(roles, { REDIS_URL: redisServer.url }).catch(async (error: unknown) => {
      await redisServer.stop();
      throw error;
    });
    const pool = createPool(system.db.url, { max: Math.max(...concurrencies), idleTimeoutMillis: 0 });
    const client = new JsonClient(system.url);
    const keys = new ReadModelKeys(system.prefix);
    const projected = () => projectedToHead(system.db.pool, system.redis, keys, [PRODUCTS, HISTORY]);
    // The HTTP path's CPU is the roles' (this process is only its client); the in-process path's includes
    // this process, and the roles' too (the projector's catch-up projects its events as well).
    const shared = [...roles.map((r) => processes(r, () => [system.role(r).child.pid])), postgresBackends(system.db.url), processes("redis", () => [redisServer.pid])];
    const httpCpu = shared;
    const localCpu = [thisProcess(), ...shared];
    try {
      const skus = Array.from({ length: products }, (_, p) => benchSku(p));
      await system.db.pool.query(multiRowInsert("events", skus.length), skus.flatMap((sku) => rawRow(productStreamId(sku), 1, productDefined(sku, 1000))));
      const handler = new CommandHandler(new EventStore(pool), productDecider);
      const query = print(RestockProductDocument);
      const sku = () => skus[Math.floor(Math.random() * skus.length)]!;

      for (const concurrency of concurrencies) {
        const label = `restockProduct, ${concurrency} clients`;
        const viaHttpOp = (tag: string) => async (i: number) =>
          dataOf(await client.post<GraphQLBody>({ query, variables: { sku: sku(), quantity: 1, commandId: `g-${tag}-${i}` } }));
        const inProcessOp = (tag: string) => (i: number) => {
          const s = sku();
          const command: InventoryCommand = { type: "Restock", sku: s, quantity: 1 };
          return handler.handle(productStreamId(s), command, { commandId: `h-${tag}-${i}`, actor: "bench" });
        };
        const measure = async (tag: string, n: number, graphqlFirst: boolean) => {
          // Each path's window closes once the projector has projected its events: the in-process path's are
          // projected by the catch-up tick, which would otherwise land in the next window.
          const settled = async (load: Promise<LoadResult>) => {
            const result = await load;
            await projected();
            return result;
          };
          const viaHttp = () => withCpu(httpCpu, () => settled(closedLoop({ concurrency, total: n, op: viaHttpOp(tag) })));
          const inProcess = () => withCpu(localCpu, () => settled(closedLoop({ concurrency, total: n, op: inProcessOp(tag) })));
          const first = graphqlFirst ? await viaHttp() : await inProcess();
          const second = graphqlFirst ? await inProcess() : await viaHttp();
          const [{ value: http, cpu: hCpu }, { value: local, cpu: lCpu }] = graphqlFirst ? [first, second] : [second, first];
          const h = summarize(http.latencies);
          const l = summarize(local.latencies);
          return {
            rate: http.ops / http.seconds, p50: h.p50, p99: h.p99, baseRate: local.ops / local.seconds, baseP50: l.p50, baseP99: l.p99,
            ...cpuPerOp(hCpu, http.ops, "cpu", "µs"), ...cpuPerOp(lCpu, local.ops, "baseCpu", "µs"),
          };
        };
        ctx.progress(`${label}: warming both paths up (${ctx.warmupMs / 1000} s each)`);
        await warmUp(concurrency, ctx.warmupMs, inProcessOp(`c${concurrency}w`));
        await warmUp(concurrency, ctx.warmupMs, viaHttpOp(`c${concurrency}w`));
        await projected();
        const m = medianOf(
          await repeat(ctx.runs, (run) => {
            ctx.progress(`${label}: run ${run + 1}/${ctx.runs}`);
            return measure(`c${concurrency}r${run}`, mutations, run % 2 === 0);
          }),
        );
        const params = { mutation: "restockProduct", concurrency, mutations, products, runs: ctx.runs };
        ctx.emit({ label, value: m.rate, unit: "mutations/s", baseline: m.baseRate, params });
        ctx.emit({ label: `${label}, p50`, value: m.p50, unit: "ms", baseline: m.baseP50, params: { ...params, stat: "p50" } });
        ctx.emit({ label: `${label}, p99`, value: m.p99, unit: "ms", baseline: m.baseP99, params: { ...params, stat: "p99" } });
        emitCpu(ctx, { label, op: "mutation", scale: "µs", figures: m, baselineKey: "baseCpu", params });
      }
    } finally {
      client.close();
      await pool.end();
      await system.release();
      await redisServer.stop();
    }
  },
};
