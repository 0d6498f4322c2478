import { resolve } from "node:path";
import { Queue } from "bullmq";
import { CommandHandler } from "../src/platform/aggregate/commandHandler";
import { createRedis } from "../src/platform/core/redis";
import type { InventoryCommand } from "../src/services/inventory/commands";
import { productDecider, productStreamId } from "../src/services/inventory/decider";
import { spawnNode, type NodeChild } from "./lib/child";
import { postgresBackends, processes, thisProcess, withCpu, type CpuSource } from "./lib/cpuMeter";
import { cpuPerOp, emitCpu } from "./lib/cpuReport";
import { benchDatabase } from "./lib/env";
import { HOP_QUEUE, HOP_TRANSPORTS, hopReplies, hopStream, type HopTransport } from "./lib/hopTransport";
import { benchSku, multiRowInsert, productDefined, rawRow } from "./lib/inventoryEvents";
import { closedLoop } from "./lib/load";
import { startPrivateRedis } from "./lib/privateRedis";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat, summarize } from "./lib/stats";

/** The command worker's default concurrency (COMMAND_CONCURRENCY), for the no-op workers too. */
const WORKER_CONCURRENCY = 8;

/**
 * What a hop costs with nothing behind it, against the command it carries.
 * A caller in this process sends N no-op messages at concurrency C to a worker
 * process that only answers on the caller's reply channel (hopWorker.ts):
 *  - `bullmq`: one BullMQ job per message, as the command bus sends commands;
 *  - `stream`: one Redis stream entry, read by a consumer group in batches.
 * Baseline: the `Restock` command through `CommandHandler` in this process, at
 * the same concurrency. Also measured: a Redis PING from this process, the
 * cost of one round trip on this machine, which every hop is made of. CPU per operation sums this process, the worker and
 * Redis (the baseline: this process and its PostgreSQL backends).
 *
 * On cores the whole path saturates, a mutation through a transport costs at
 * least the command plus the hop, so the bus can reach at most
 * command / (command + hop) of the in-process rate: printed as the ceiling.
 * It leaves out HTTP, GraphQL, and the api's and worker's own code, so the
 * real figure is lower still.
 */
export const hopScenario: Scenario = {
  name: "hop",
  summary: "a no-op hop (BullMQ job, Redis stream entry) answered on a reply channel vs the command in process; CPU per op and the ceiling it sets",
  flags: {
    ops: "operations per measurement (default 3000; 1000 in the suite)",
    concurrency: "concurrent callers, comma-separated (default 1,8,64; 8 in the suite)",
  },
  async run(ctx) {
    const ops = ctx.args.int("ops", { single: 3000, suite: 1000, smoke: 40 }, ctx.mode);
    const concurrencies = ctx.args.intList("concurrency", { single: [1, 8, 64], suite: [8], smoke: [4] }, ctx.mode);
    ctx.progress("starting a Redis of this run's own and a database");
    const redisServer = await startPrivateRedis();
    const prefix = `bench-hop-${process.pid}`;
    const connection = createRedis(redisServer.url);
    const replies = createRedis(redisServer.url, { subscriber: true });
    const waiting = new Map<string, () => void>();
    replies.on("message", (_channel: string, id: string) => {
      waiting.get(id)?.();
      waiting.delete(id);
    });
    await replies.subscribe(hopReplies(prefix));
    const queueConnection = createRedis(redisServer.url);
    const queue = new Queue(HOP_QUEUE, { connection: queueConnection, prefix });
    const db = await benchDatabase(Math.max(...concurrencies));
    const workers: NodeChild[] = [];
    try {
      const skus = Array.from({ length: 500 }, (_, p) => benchSku(p));
      await db.pool.query(multiRowInsert("events", skus.length), skus.flatMap((sku) => rawRow(productStreamId(sku), 1, productDefined(sku, 1000))));
      const handler = new CommandHandler(db.store, productDecider);
      const sku = () => skus[Math.floor(Math.random() * skus.length)]!;
      const answered = (id: string) => new Promise<void>((done) => waiting.set(id, done));
      const send: Record<HopTransport, (id: string) => Promise<unknown>> = {
        bullmq: (id) => queue.add("hop", { replyTo: hopReplies(prefix) }, { jobId: id, removeOnComplete: { age: 3600, count: 10_000 } }),
        stream: (id) => connection.xadd(hopStream(prefix), "*", "replyTo", hopReplies(prefix), "id", id),
      };
      const workerPids: Partial<Record<HopTransport, number>> = {};
      for (const transport of HOP_TRANSPORTS) {
        const worker = await spawnNode(
          resolve(__dirname, "lib/hopWorker.js"),
          { HOP_TRANSPORT: transport, REDIS_URL: redisServer.url, HOP_PREFIX: prefix, HOP_CONCURRENCY: String(WORKER_CONCURRENCY) },
          /hop worker ready/,
        );
        workers.push(worker);
        workerPids[transport] = worker.pid;
      }
      const redisCpu = processes("redis", () => [redisServer.pid]);
      const hopCpu = (transport: HopTransport): CpuSource[] => [thisProcess(), processes("worker", () => [workerPids[transport]]), redisCpu];
      const localCpu = [thisProcess(), postgresBackends(db.url)];

      for (const concurrency of concurrencies) {
        const measure = async (tag: string, n: number) => {
          const local = await withCpu(localCpu, () =>
            closedLoop({
              concurrency,
              total: n,
              op: (i) => {
                const s = sku();
                const command: InventoryCommand = { type: "Restock", sku: s, quantity: 1 };
                return handler.handle(productStreamId(s), command, { commandId: `${tag}-h-${i}`, actor: "bench" });
              },
            }),
          );
          const figures: Record<string, number> = { baseRate: local.value.ops / local.value.seconds, baseP50: summarize(local.value.latencies).p50 };
          Object.assign(figures, cpuPerOp(local.cpu, local.value.ops, "baseCpu", "µs"));
          // The unit every hop is made of on this machine: one Redis round trip, as cheap as a command can be.
          const ping = await withCpu([thisProcess(), redisCpu], () => closedLoop({ concurrency, total: n, op: () => connection.ping() }));
          figures.pingRate = ping.value.ops / ping.value.seconds;
          Object.assign(figures, cpuPerOp(ping.cpu, ping.value.ops, "pingCpu", "µs"));
          for (const transport of HOP_TRANSPORTS) {
            const hop = await withCpu(hopCpu(transport), () =>
              closedLoop({
                concurrency,
                total: n,
                op: async (i) => {
                  const id = `${tag}-${transport}-${i}`;
                  const answer = answered(id);
                  await send[transport](id);
                  await answer;
                },
              }),
            );
            figures[`${transport}Rate`] = hop.value.ops / hop.value.seconds;
            figures[`${transport}P50`] = summarize(hop.value.latencies).p50;
            Object.assign(figures, cpuPerOp(hop.cpu, hop.value.ops, `${transport}Cpu`, "µs"));
          }
          return figures;
        };
        await measure(`c${concurrency}w`, Math.max(40, concurrency * 4));
        const m = medianOf(await repeat(ctx.runs, (run) => {
          ctx.progress(`c=${concurrency}: run ${run + 1}/${ctx.runs}`);
          return measure(`c${concurrency}r${run}`, ops);
        }));
        const params = { concurrency, ops, workerConcurrency: WORKER_CONCURRENCY, runs: ctx.runs };
        ctx.emit({ label: `Redis PING, c=${concurrency}`, value: m.pingRate!, unit: "round trips/s", baseline: m.baseRate!, params });
        emitCpu(ctx, { label: `Redis PING, c=${concurrency}`, op: "round trip", scale: "µs", figures: m, key: "pingCpu", baselineKey: "baseCpu", params });
        for (const transport of HOP_TRANSPORTS) {
          const label = `${transport} no-op hop, c=${concurrency}`;
          const p = { ...params, transport };
          ctx.emit({ label, value: m[`${transport}Rate`]!, unit: "hops/s", baseline: m.baseRate!, params: p });
          ctx.emit({ label: `${label}, p50`, value: m[`${transport}P50`]!, unit: "ms", baseline: m.baseP50!, params: { ...p, stat: "p50" } });
          emitCpu(ctx, { label, op: "hop", scale: "µs", figures: m, key: `${transport}Cpu`, baselineKey: "baseCpu", params: p });
          const command = m.baseCpu ?? 0;
          const hop = m[`${transport}Cpu`] ?? 0;
          if (!(command > 0 && hop > 0)) continue; // a window shorter than a clock tick (smoke sizes): no figure
          ctx.emit({
            label: `command + ${transport} hop, ceiling (CPU-bound)`,
            value: command / (command + hop),
            unit: "× in process",
            params: { ...p, stat: "ceiling", commandCpuUs: Math.round(command), hopCpuUs: Math.round(hop) },
          });
        }
      }
    } finally {
      for (const worker of workers) await worker.stop();
      await queue.close();
      queueConnection.disconnect(); // a connection given to BullMQ stays its owner's to close
      replies.disconnect();
      connection.disconnect();
      await db.release();
      await redisServer.stop();
    }
  },
};
