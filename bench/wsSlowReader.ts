import { readFileSync } from "node:fs";
import { print } from "graphql";
import { productsProjection } from "../projections/inventory/products/projection";
import { FIRST_GENERATION, ReadModelKeys } from "../src/platform/projection/keys";
import { ProductDocument } from "../test/graphql/generated";
import { rawGraphQLSocket } from "../test/support/graphqlClient";
import { testRedis } from "../test/support/testEnv";
import { benchSystem } from "./lib/env";
import { dataOf, type GraphQLBody, JsonClient } from "./lib/http";
import { benchSku, seedInventoryLog } from "./lib/inventoryEvents";
import { closedLoop } from "./lib/load";
import { projectAll } from "./lib/project";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat, summarize } from "./lib/stats";

/**
 * What a client that stops reading costs everyone else. While stock-level
 * changes are published at a steady rate, 4 clients query `product(id)`;
 * meanwhile one WebSocket holds `--subscriptions` subscriptions to those
 * changes and stops reading. Baseline: the same socket reading all it gets,
 * which costs the api the same work per change. The api closes the stalled
 * socket (1013) once WS_MAX_BUFFERED_BYTES are queued for it, after the
 * kernel's socket buffers (a few MB) have filled; the figures are the others'
 * latency, the api's peak memory, and the changes it took to close the socket.
 */
const STOCK_LEVELS = "subscription { stockLevels { sku available reserved eventType position } }";

export const wsSlowReaderScenario: Scenario = {
  name: "ws-slow-reader",
  summary: "product(id) p50/p99 and api memory while a WebSocket with 1000 subscriptions stops reading; baseline: the same socket reading",
  flags: {
    subscriptions: "subscriptions on the stalled socket (default 1000)",
    seconds: "duration of each measurement in seconds (default 10; 5 in the suite)",
    rate: "stock-level changes published per second (default 5)",
  },
  async run(ctx) {
    const subscriptions = ctx.args.int("subscriptions", { single: 1000, smoke: 20 }, ctx.mode);
    const seconds = ctx.args.int("seconds", { single: 10, suite: 5, smoke: 1 }, ctx.mode);
    const rate = ctx.args.int("rate", { single: 5, smoke: 5 }, ctx.mode);
    const products = ctx.mode === "smoke" ? 50 : 500;
    const durationMs = seconds * 1000;

    ctx.progress("starting the api process");
    const system = await benchSystem(["api"], { WS_MAX_SUBSCRIPTIONS_PER_SOCKET: String(subscriptions) });
    const redis = testRedis();
    const graphql = new JsonClient(system.url);
    const channel = new ReadModelKeys(system.prefix).topic(productsProjection.name, "stock-levels");
    const listeners = async () => Number(((await redis.pubsub("NUMSUB", channel)) as [string, number])[1]);
    let position = 0;
    try {
      ctx.progress(`seeding and projecting ${products} products`);
      await seedInventoryLog(system.db.pool, { events: products * 4, products });
      await projectAll(redis, system.db.store, new ReadModelKeys(system.prefix), productsProjection, FIRST_GENERATION, products * 4);
      const query = print(ProductDocument);
      const sku = () => benchSku(Math.floor(Math.random() * products));
      const apiPid = system.role("api").child.pid!;

      const measure = async (stalled: boolean) => {
        const socket = await rawGraphQLSocket(system.url.replace(/^http/, "ws"), {});
        for (let i = 0; i < subscriptions; i++) socket.subscribe(`s${i}`, STOCK_LEVELS);
        while ((await listeners()) === 0) await sleep(20);
        await sleep(200); // every subscribe has been taken
        if (stalled) socket.socket.pause();
        let published = 0;
        let closedAfter: number | null = null;
        const publisher = setInterval(() => {
          // The envelope the api's feeds check (platform/subscriptions/changeLog.ts parseChange): without eventId and streamVersion a change is dropped.
          const change = { projection: "products", id: sku(), position: `1.${++position}`, eventType: "StockRestocked", eventId: `slow-${position}`, streamVersion: position, document: { available: position, reserved: 0 } };
          published++;
          redis
            .publish(channel, JSON.stringify(change))
            .then(async () => {
              if (stalled && closedAfter === null && (await listeners()) === 0) closedAfter = published;
            })
            .catch((error: unknown) => ctx.progress(`publish failed: ${String(error)}`));
        }, 1000 / rate);
        let peak = rssMb(apiPid);
        const sampler = setInterval(() => {
          peak = Math.max(peak, rssMb(apiPid));
          socket.messages.length = 0; // what the reading socket gets is not kept
        }, 100);
        // A query refused under load (UNAVAILABLE after REDIS_READ_TIMEOUT_MS) is counted, not fatal: it is part of the cost.
        let failed = 0;
        const load = await closedLoop({
          concurrency: 4,
          durationMs,
          op: async () => {
            try {
              dataOf(await graphql.post<GraphQLBody>({ query, variables: { id: sku() } }));
            } catch {
              failed++;
            }
          },
        });
        clearInterval(sampler);
        clearInterval(publisher);
        let closeCode = 0;
        if (stalled) {
          socket.socket.resume();
          closeCode = await Promise.race([socket.closed, sleep(5000).then(() => 0)]);
        }
        socket.socket.terminate();
        while ((await listeners()) > 0) await sleep(20); // the next measurement starts from nothing
        await sleep(500);
        const latency = summarize(load.latencies);
        return { p50: latency.p50, p99: latency.p99, peak, closedAfter: closedAfter ?? 0, closeCode, failed };
      };

      await measure(false); // JIT and connections
      const runs = await repeat(ctx.runs, async (run) => {
        ctx.progress(`run ${run + 1}/${ctx.runs}`);
        const first = run % 2 === 0;
        const a = await measure(first);
        const b = await measure(!first);
        const [withSocket, without] = first ? [a, b] : [b, a];
        return { p50: withSocket.p50, p99: withSocket.p99, peak: withSocket.peak, closedAfter: withSocket.closedAfter, closeCode: withSocket.closeCode, failed: withSocket.failed, baseFailed: without.failed, baseP50: without.p50, baseP99: without.p99, basePeak: without.peak };
      });
      const m = medianOf(runs);
      const params = { subscriptions, ratePerSecond: rate, seconds, clients: 4, runs: ctx.runs, closeCode: m.closeCode, failedQueries: m.failed, baselineFailedQueries: m.baseFailed };
      ctx.emit({ label: "product(id) p50 beside a stalled socket", value: m.p50, unit: "ms", baseline: m.baseP50, params: { ...params, stat: "p50" } });
      ctx.emit({ label: "product(id) p99 beside a stalled socket", value: m.p99, unit: "ms", baseline: m.baseP99, params: { ...params, stat: "p99" } });
      ctx.emit({ label: "api peak RSS during a measurement", value: m.peak, unit: "MB", baseline: m.basePeak, params });
      // Smoke sizes never fill the kernel's buffers, so the socket is not closed there.
      if (m.closedAfter > 0) ctx.emit({ label: "changes published before the stalled socket was closed", value: m.closedAfter, unit: "changes", params });
    } finally {
      graphql.close();
      await redis.quit();
      await system.release();
    }
  },
};

function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0; // the process is gone (the run is being torn down)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
