import { print } from "graphql";
import { Redis } from "ioredis";
import { CommandHandler } from "../src/platform/aggregate/commandHandler";
import { QueueCommandBus } from "../src/platform/bus/queueCommandBus";
import { createRedis } from "../src/platform/core/redis";
import { EventStore } from "../src/platform/eventstore/eventStore";
import { createPool } from "../src/platform/eventstore/pool";
import type { InventoryCommand } from "../src/services/inventory/commands";
import { INVENTORY } from "../src/services/inventory/contract";
import { productDecider, productStreamId } from "../src/services/inventory/decider";
import { RestockProductDocument } from "../test/graphql/generated";
import { benchSystem } from "./lib/env";
import { dataOf, type GraphQLBody, JsonClient } from "./lib/http";
import { benchSku, multiRowInsert, productDefined, rawRow } from "./lib/inventoryEvents";
import { closedLoop, warmUp } from "./lib/load";
import { roundTrips } from "./lib/monitor";
import { commandDelta, commandStats, startPrivateRedis } from "./lib/privateRedis";
import type { Scenario } from "./lib/scenario";
import { summarize } from "./lib/stats";

/**
 * Where one command's round trip goes, one client at a time (no queueing):
 * the same `Restock` three ways, each step adding one hop to the one before:
 *  1. `CommandHandler` in this process (PostgreSQL only): the baseline;
 *  2. `QueueCommandBus` from this process to the inventory process's worker (adds BullMQ);
 *  3. `restockProduct` over HTTP to the api process (adds HTTP, GraphQL, auth).
 * For 2 and 3 it reports Redis commands per command from INFO commandstats of
 * a private redis-server (commands run inside scripts included, so `evalsha`
 * counts the round trips of scripts and the rest mostly what they run), and
 * the most frequent of them. With `--projector`, a projector process runs as
 * well and its Redis work is counted too.
 */
export const roundtripScenario: Scenario = {
  name: "roundtrip",
  summary: "one command's hops, 1 client: in process vs through the bus vs over HTTP; Redis commands per command",
  flags: {
    commands: "sequential commands per path (default 300; 100 in the suite)",
  },
  async run(ctx) {
    const n = ctx.args.int("commands", { single: 300, suite: 100, smoke: 10 }, ctx.mode);
    const withProjector = ctx.args.has("projector");
    const roles = withProjector ? ["api", "projector", "inventory"] : ["api", "inventory"];
    ctx.progress(`starting a private Redis, then ${roles.join(", ")} processes`);
    const redisServer = await startPrivateRedis();
    const system = await benchSystem(roles, { REDIS_URL: redisServer.url }).catch(async (error: unknown) => {
      await redisServer.stop();
      throw error;
    });
    const stats = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    const busConnection = createRedis(redisServer.url);
    const bus = new QueueCommandBus(busConnection, redisServer.url, system.prefix, { timeoutMs: 10_000, attempts: 5 });
    const pool = createPool(system.db.url, { max: 2, idleTimeoutMillis: 0 });
    const client = new JsonClient(system.url);
    try {
      const skus = Array.from({ length: 50 }, (_, p) => benchSku(p));
      await system.db.pool.query(multiRowInsert("events", skus.length), skus.flatMap((sku) => rawRow(productStreamId(sku), 1, productDefined(sku, 1000))));
      const handler = new CommandHandler(new EventStore(pool), productDecider);
      const query = print(RestockProductDocument);
      const sku = (i: number) => skus[i % skus.length]!;
      const restock = (i: number): InventoryCommand => ({ type: "Restock", sku: sku(i), quantity: 1 });
      const paths: Array<{ name: string; op: (tag: string, i: number) => Promise<unknown>; redis: boolean }> = [
        { name: "in process", redis: false, op: (tag, i) => handler.handle(productStreamId(sku(i)), restock(i), { commandId: `${tag}-${i}`, actor: "bench" }) },
        { name: "bus", redis: true, op: (tag, i) => bus.send(INVENTORY, restock(i), { commandId: `${tag}-${i}`, actor: "bench" }) },
        {
          name: "http",
          redis: true,
          op: async (tag, i) => dataOf(await client.post<GraphQLBody>({ query, variables: { sku: sku(i), quantity: 1, commandId: `${tag}-${i}` } })),
        },
      ];
      const p50 = new Map<string, number>();
      for (const path of paths) {
        ctx.progress(`${path.name}: ${n} commands`);
        await warmUp(1, ctx.warmupMs, (i) => path.op(`w-${path.name}`, i));
        const before = await commandStats(stats);
        const result = await closedLoop({ concurrency: 1, total: n, op: (i) => path.op(`m-${path.name}`, i) });
        const delta = commandDelta(before, await commandStats(stats)).filter(([name]) => name !== "info");
        const latency = summarize(result.latencies);
        p50.set(path.name, latency.p50);
        const params = { path: path.name, commands: n, roles: roles.join("+") };
        const base = p50.get("in process") ?? null;
        ctx.emit({ label: `${path.name}, p50`, value: latency.p50, unit: "ms", baseline: path.name === "in process" ? null : base, params: { ...params, stat: "p50" } });
        if (path.redis) {
          const total = delta.reduce((sum, [, calls]) => sum + calls, 0);
          const top = delta.slice(0, 8).map(([name, calls]) => `${name}:${(calls / n).toFixed(1)}`).join(" ");
          ctx.emit({ label: `${path.name}, Redis commands per command`, value: total / n, unit: "commands", params: { ...params, top } });
          const scripts = delta.find(([name]) => name === "evalsha")?.[1] ?? 0;
          ctx.emit({ label: `${path.name}, scripts (evalsha) per command`, value: scripts / n, unit: "commands", params });
          // Round trips: top-level commands only, for a few commands (MONITOR slows Redis down, so not while timing).
          const sample = Math.min(n, 20);
          const trips = [...(await roundTrips(redisServer.url, () => closedLoop({ concurrency: 1, total: sample, op: (i) => path.op(`r-${path.name}`, i) })))]
            .filter(([name]) => name !== "monitor")
            .sort((a, b) => b[1] - a[1]);
          const tripTotal = trips.reduce((sum, [, calls]) => sum + calls, 0);
          const tripTop = trips.map(([name, calls]) => `${name}:${(calls / sample).toFixed(1)}`).join(" ");
          ctx.emit({ label: `${path.name}, top-level commands per command`, value: tripTotal / sample, unit: "commands", params: { ...params, top: tripTop } });
        }
      }
    } finally {
      client.close();
      await bus.close();
      busConnection.disconnect();
      stats.disconnect();
      await pool.end();
      await system.release();
      await redisServer.stop();
    }
  },
};
