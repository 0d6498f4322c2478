import { productsProjection } from "../projections/inventory/products/projection";
import { ReadModelKeys } from "../src/platform/projection/keys";
import { Redis } from "ioredis";
import { deleteKeys, testPrefix } from "../test/support/testEnv";
import { postgresBackends, processes, thisProcess, withCpu } from "./lib/cpuMeter";
import { cpuPerOp, emitCpu } from "./lib/cpuReport";
import { benchDatabase } from "./lib/env";
import { startPrivateRedis } from "./lib/privateRedis";
import { seedInventoryLog } from "./lib/inventoryEvents";
import { projectAll } from "./lib/project";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat } from "./lib/stats";

/**
 * Events/s projecting N stored events from scratch into a fresh generation of
 * the products read model (projectGeneration: read a batch in commit order,
 * MGET the documents, fold, MULTI/EXEC docs + indexes + checkpoint). The log
 * is seeded straight into PostgreSQL with INSERT ... SELECT batches.
 * Baseline: N plain SETs of product-sized documents to Redis, pipelined in
 * batches of the projector's batch size, one batch in flight, as the projector does.
 */

export const rebuildScenario: Scenario = {
  name: "rebuild",
  summary: "events/s projecting N stored events into a fresh products generation; baseline: pipelined Redis SETs",
  flags: {
    events: "events in the log (default 1,000,000; 100,000 in the suite)",
    products: "product streams the events are spread over (default events/100, at most 10,000)",
    batch: "events per projector batch (default: projectGeneration's own, 1000)",
  },
  async run(ctx) {
    const events = ctx.args.int("events", { single: 1_000_000, suite: 100_000, smoke: 2000 }, ctx.mode);
    const products = ctx.args.int("products", { single: Math.max(10, Math.min(10_000, Math.floor(events / 100))), smoke: 20 }, ctx.mode);
    const batch = ctx.args.int("batch", { single: 1000, smoke: 1000 }, ctx.mode);

    const db = await benchDatabase(4);
    // A Redis of the run's own: its CPU is then the rebuild's (and the SETs').
    const redisServer = await startPrivateRedis();
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    const prefix = testPrefix();
    const redisCpu = processes("redis", () => [redisServer.pid]);
    try {
      const seedStarted = performance.now();
      let reported = 0;
      await seedInventoryLog(db.pool, {
        events,
        products,
        onProgress: (done) => {
          if (done - reported >= 100_000 || done === events) {
            reported = done;
            ctx.progress(`seeded ${done.toLocaleString("en")} of ${events.toLocaleString("en")} events`);
          }
        },
      });
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      ctx.progress(`seeding took ${seedSeconds.toFixed(1)} s (${Math.round(events / seedSeconds)} events/s, not part of the figure)`);

      const keys = new ReadModelKeys(prefix);
      const doc = JSON.stringify({
        id: "BENCH-000042", sku: "BENCH-000042", name: "Product 1a2b3c4d5e", priceMinor: 1250, currency: "EUR",
        available: 999999990, reserved: 2, inStock: true, version: 57, position: "123456.7890123", updatedAt: "2026-01-01T00:00:00.000Z",
      });

      const project = async (run: number) => {
        const generation = 100 + run;
        const started = performance.now();
        const cpuBefore = process.cpuUsage();
        let shown = 0;
        const { value: total, cpu: split } = await withCpu([thisProcess(), postgresBackends(db.url), redisCpu], () => projectAll(
          redis, db.store, keys, productsProjection, generation, events,
          (n) => {
            if (n - shown >= 200_000) {
              shown = n;
              ctx.progress(`  projected ${n.toLocaleString("en")} events`);
            }
          },
          batch,
        ));
        const seconds = (performance.now() - started) / 1000;
        const rate = total / seconds;
        const cpu = process.cpuUsage(cpuBefore);
        ctx.progress(`  ${Math.round(rate)} events/s; this process was on CPU ${Math.round((cpu.user + cpu.system) / 1e4 / seconds)}% of the time`);
        await deleteKeys(redis, keys.generation(productsProjection.name, generation).keyspace);
        return { rate, ...cpuPerOp(split, total, "cpu", "µs") };
      };
      const setKeys = async () => {
        const started = performance.now();
        const { cpu } = await withCpu([thisProcess(), redisCpu], async () => {
          for (let from = 0; from < events; from += batch) {
            const pipeline = redis.pipeline();
            for (let i = from; i < Math.min(events, from + batch); i++) pipeline.set(`${prefix}:raw:${i}`, doc);
            await pipeline.exec();
          }
        });
        const rate = events / ((performance.now() - started) / 1000);
        await deleteKeys(redis, `${prefix}:raw`);
        return { baseline: rate, ...cpuPerOp(cpu, events, "baseCpu", "µs") };
      };

      const runs = await repeat(ctx.runs, async (run) => {
        ctx.progress(`run ${run + 1}/${ctx.runs}`);
        if (run % 2 === 0) {
          const baseline = await setKeys();
          return { ...(await project(run)), ...baseline };
        }
        const projected = await project(run);
        return { ...projected, ...(await setKeys()) };
      });
      const m = medianOf(runs);
      const label = `${events.toLocaleString("en")} events, ${products.toLocaleString("en")} products`;
      const params = { events, products, batchSize: batch, runs: ctx.runs };
      ctx.emit({ label, value: m.rate, unit: "events/s", baseline: m.baseline, params, target: { on: "ratio", op: ">=", threshold: 0.5 } });
      emitCpu(ctx, { label, op: "event", scale: "µs", figures: m, baselineKey: "baseCpu", params });
    } finally {
      await deleteKeys(redis, prefix).catch(() => undefined);
      await redis.quit();
      await redisServer.stop();
      await db.release();
    }
  },
};
