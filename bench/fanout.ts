import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { productsProjection, STOCK_LEVELS_TOPIC } from "../projections/inventory/products/projection";
import { ReadModelKeys } from "../src/platform/projection/keys";
import { UsageError } from "./lib/args";
import { spawnNode } from "./lib/child";
import { processes, withCpu } from "./lib/cpuMeter";
import { cpuPerOp, emitCpu } from "./lib/cpuReport";
import { benchSystem } from "./lib/env";
import { FanoutClients } from "./lib/fanoutDriver";
import { startPrivateRedis } from "./lib/privateRedis";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat } from "./lib/stats";

/**
 * Subscription fanout: N graphql-ws subscribers of `stockLevels`, one socket
 * each, on ONE api process, while changes are published at a fixed rate.
 * Baseline: a bare `ws` server (bench/lib/bareBroadcastServer.ts) forwarding
 * the same Redis messages to the same number of sockets, measured in the
 * same run, alternating order. The clients and the publisher live in a
 * process of their own (bench/lib/fanoutClients.ts), so the servers' CPU is
 * theirs alone, and latency runs from PUBLISH to receipt on one clock.
 *
 * The changes are published straight on the topic the api listens to
 * (`{prefix}:{products}:topic:stock-levels`), as the projector publishes them after its
 * commit, rather than appended as events: the fanout path starts at that
 * PUBLISH, both servers then get byte-identical messages at an exact rate,
 * and neither the projector nor PostgreSQL shares the cores with the servers
 * (projection-lag measures commit → subscriber through the projector).
 *
 * Figures: deliveries/s (received by all clients; offered: N × rate), p50/p99
 * publish → receipt, server RSS growth per subscriber once all are live, and
 * CPU per delivery of the server and Redis (a Redis of the run's own).
 */
const STOCK_LEVELS = "subscription BenchFanout { stockLevels { sku available reserved eventType position } }";
/** The api's default WS_MAX_BUFFERED_BYTES; the bare server drops a client at the same bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export const fanoutScenario: Scenario = {
  name: "fanout",
  summary: "graphql-ws subscribers on one api: deliveries/s, p50/p99 publish → receipt, memory and CPU; baseline: a bare ws server, same Redis messages",
  flags: {
    subscribers: "subscribers (one socket each), comma-separated (default 1000,5000; 1000 in the suite)",
    rate: "changes published per second (default 200)",
    seconds: "seconds of publishing per measurement (default 5; 3 in the suite)",
    drain: "ms to wait for late deliveries after publishing stops (default 10000)",
  },
  async run(ctx) {
    const counts = ctx.args.intList("subscribers", { single: [1000, 5000], suite: [1000], smoke: [20] }, ctx.mode);
    const rate = ctx.args.int("rate", { single: 200, smoke: 50 }, ctx.mode);
    const seconds = ctx.args.int("seconds", { single: 5, suite: 3, smoke: 1 }, ctx.mode);
    const drainMs = ctx.args.int("drain", { single: 10_000, smoke: 3000 }, ctx.mode);
    const fds = openFileLimit();
    // Each socket is a descriptor in the clients' process and in the server's.
    if (fds !== null && Math.max(...counts) + 200 > fds) {
      throw new UsageError(`--subscribers ${Math.max(...counts)} needs more open files than this shell allows (ulimit -n is ${fds}): raise it with ulimit -n`);
    }
    ctx.progress(`open files per process (ulimit -n): ${fds ?? "unknown"}`);

    const redisServer = await startPrivateRedis();
    let system: Awaited<ReturnType<typeof benchSystem>> | null = null;
    let bare: Awaited<ReturnType<typeof spawnNode>> | null = null;
    const clients = FanoutClients.start();
    try {
      ctx.progress("starting a Redis of this run's own, the api process and the bare ws server");
      system = await benchSystem(["api"], { REDIS_URL: redisServer.url });
      const apiChannel = new ReadModelKeys(system.prefix).topic(productsProjection.name, STOCK_LEVELS_TOPIC);
      const bareChannel = `${system.prefix}:bench:fanout`;
      bare = await spawnNode(
        resolve(__dirname, "lib/bareBroadcastServer.js"),
        { REDIS_URL: redisServer.url, CHANNEL: bareChannel, MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES) },
        /listening on (ws:\S+)/,
      );
      const servers = {
        graphql: { pid: system.role("api").child.pid!, url: system.url.replace(/^http/, "ws"), channel: apiChannel },
        bare: { pid: bare.pid, url: bare.ready, channel: bareChannel },
      };

      for (const n of counts) {
        const measure = async (kind: "graphql" | "bare", cpuKey: string) => {
          const server = servers[kind];
          await settle();
          const rssBefore = rssBytes(server.pid);
          await clients.open(server.url, n, kind, STOCK_LEVELS);
          const live = await clients.warm(redisServer.url, server.channel);
          // A subscription that never goes live is a finding, reported in params; the run goes on with the live ones unless too few are.
          if (live < n) ctx.progress(`  only ${live} of ${n} ${kind} subscribers received a change within 60 s`);
          if (live < n * 0.9) throw new Error(`only ${live} of ${n} ${kind} subscribers received a change within 60 s`);
          await settle();
          const rssAfter = rssBytes(server.pid);
          const sources = [processes("server", () => [server.pid]), processes("redis", () => [redisServer.pid])];
          const { value: s, cpu } = await withCpu(sources, () => clients.run(redisServer.url, server.channel, rate, seconds, drainMs));
          await clients.closeSockets();
          return {
            rate: s.delivered / s.seconds,
            delivered: s.delivered / Math.max(1, s.expected),
            p50: s.p50,
            p99: s.p99,
            max: s.max,
            closed: s.closedSockets,
            notLive: n - live,
            memory: (rssAfter - rssBefore) / n / 1024,
            cpu: cpuPerOp(cpu, s.delivered, cpuKey, "µs"),
          };
        };
        const runs = await repeat(ctx.runs, async (run) => {
          ctx.progress(`${n} subscribers, ${rate} changes/s for ${seconds} s: run ${run + 1}/${ctx.runs}`);
          const graphqlFirst = run % 2 === 0;
          const first = await measure(graphqlFirst ? "graphql" : "bare", graphqlFirst ? "cpu" : "baseCpu");
          const second = await measure(graphqlFirst ? "bare" : "graphql", graphqlFirst ? "baseCpu" : "cpu");
          const [g, b] = graphqlFirst ? [first, second] : [second, first];
          ctx.progress(`  api ${Math.round(g.rate)} deliveries/s (${(g.delivered * 100).toFixed(1)} %), p99 ${g.p99.toFixed(1)} ms; bare ${Math.round(b.rate)} (${(b.delivered * 100).toFixed(1)} %), p99 ${b.p99.toFixed(1)} ms`);
          const { cpu: gCpu, ...gFigures } = g;
          return {
            ...gFigures, ...gCpu,
            baseRate: b.rate, baseDelivered: b.delivered, baseP50: b.p50, baseP99: b.p99, baseMax: b.max, baseClosed: b.closed, baseNotLive: b.notLive, baseMemory: b.memory, ...b.cpu,
          };
        });
        const m = medianOf(runs);
        const label = `${n} subscribers`;
        const params = {
          subscribers: n, ratePerSecond: rate, seconds, runs: ctx.runs, openFiles: fds ?? -1, offered: n * rate,
          deliveredFraction: round3(m.delivered), baselineDeliveredFraction: round3(m.baseDelivered), closedSockets: m.closed, baselineClosedSockets: m.baseClosed, notLive: m.notLive, baselineNotLive: m.baseNotLive,
        };
        ctx.emit({ label, value: m.rate, unit: "deliveries/s", baseline: m.baseRate, params, target: { on: "ratio", op: ">=", threshold: 0.5 } });
        ctx.emit({ label: `${label}, p50`, value: m.p50, unit: "ms", baseline: m.baseP50, params: { ...params, stat: "p50" } });
        ctx.emit({ label: `${label}, p99`, value: m.p99, unit: "ms", baseline: m.baseP99, params: { ...params, stat: "p99", maxMs: m.max, baselineMaxMs: m.baseMax }, target: { on: "ratio", op: "<", threshold: 2 } });
        if (m.memory > 0) ctx.emit({ label: `${label}, memory`, value: m.memory, unit: "KB RSS/subscriber", baseline: m.baseMemory > 0 ? m.baseMemory : null, params });
        emitCpu(ctx, { label, op: "delivery", scale: "µs", figures: m, baselineKey: "baseCpu", params });
      }
    } finally {
      await clients.stop();
      await bare?.stop();
      await system?.release();
      await redisServer.stop();
    }
  },
};

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Garbage collection and socket buffers settle between measurements. */
const settle = () => new Promise((r) => setTimeout(r, 1500));

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** The soft limit on open files (ulimit -n) this process and its children have; null off Linux. */
function openFileLimit(): number | null {
  try {
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
    return soft === undefined ? null : soft === "unlimited" ? Infinity : Number(soft);
  } catch {
    return null;
  }
}
