import type { Client } from "graphql-ws";
import { PlaceOrderDocument } from "../test/graphql/generated";
import { request, wsClient } from "../test/support/graphqlClient";
import { followConfirmations, seedCheckoutCatalog } from "./lib/checkoutCatalog";
import { readCheckoutTemplate, runFloor, type CheckoutTemplate } from "./lib/checkoutFloor";
import { postgresBackends, processes, thisProcess, withCpu } from "./lib/cpuMeter";
import { cpuPerOp, emitCpu } from "./lib/cpuReport";
import { benchDatabase, benchSystem } from "./lib/env";
import { closedLoop } from "./lib/load";
import { roundTrips } from "./lib/monitor";
import { commandDelta, commandStats, startPrivateRedis } from "./lib/privateRedis";
import { roundFigure } from "./lib/report";
import type { Scenario } from "./lib/scenario";
import { median, medianOf, repeat, summarize } from "./lib/stats";

/**
 * Checkout end to end: placeOrder until the order is CONFIRMED, as a
 * subscriber sees it, with every role in its own process (api, projector,
 * saga, inventory, ordering, payments) on a Redis of the run's own (so that
 * its CPU and command counts are the checkouts'). Closed loop: each of the
 * clients places its next order once its last one is confirmed, so latency is
 * not queueing behind a burst.
 *
 * Baseline, the floor: the events one checkout writes, read from the log of a
 * real checkout, appended with EventStore.append alone at the same concurrency
 * to the same pattern of streams (bench/lib/checkoutFloor.ts), in a database
 * no role reads; floor checkouts/s = appended events/s ÷ events per checkout.
 * Also: events and Redis commands per checkout, and CPU per checkout summed
 * over the roles, the database's PostgreSQL backends and Redis (the floor's:
 * this process and its backends).
 */
const ROLES = ["api", "projector", "saga", "inventory", "ordering", "payments"];
const FLOOR_CONNECTIONS = 16;
/** How long the idle system is watched (Redis commands and CPU that polls and ticks cost whatever the load). */
const IDLE_MS = 3000;

export const checkoutScenario: Scenario = {
  name: "checkout",
  summary: "completed checkouts/s, p50/p99 placeOrder → CONFIRMED, every role in its own process; baseline: the log-append floor",
  flags: {
    checkouts: "checkouts per measurement (default 300; 150 in the suite)",
    concurrency: "concurrent clients, each waiting for its order's confirmation, comma-separated (default 8,64; 8 in the suite)",
    products: "products the orders are spread over (default 20)",
    customers: "customers the orders are spread over (default 50)",
    "round-trips": "also count the top-level Redis commands of a sample of checkouts by script and queue (MONITOR, not while timing)",
  },
  async run(ctx) {
    const checkouts = ctx.args.int("checkouts", { single: 300, suite: 150, smoke: 6 }, ctx.mode);
    const concurrencies = ctx.args.intList("concurrency", { single: [8, 64], suite: [8], smoke: [3] }, ctx.mode);
    const products = ctx.args.int("products", { single: 20, smoke: 3 }, ctx.mode);
    const customers = ctx.args.int("customers", { single: 50, smoke: 3 }, ctx.mode);
    const skuOf = (i: number) => `BENCH-${i % products}`;
    const customerOf = (i: number) => `bench-${i % customers}`;

    ctx.progress("starting a Redis of this run's own, then api, projector, saga, inventory, ordering and payments processes");
    const redisServer = await startPrivateRedis();
    let system: Awaited<ReturnType<typeof benchSystem>> | null = null;
    let client: Client | null = null;
    // Connections as the services' pools have (PG_POOL_SIZE per service), not one per client: the
    // server's max_connections is shared with every other run on the machine.
    const floorDb = await benchDatabase(Math.min(Math.max(...concurrencies), FLOOR_CONNECTIONS));
    try {
      system = await benchSystem(ROLES, { REDIS_URL: redisServer.url });
      const sys = system;
      await seedCheckoutCatalog(sys.url, "BENCH", products, customers);
      client = wsClient(sys.url.replace(/^http/, "ws"));
      const confirmed = await followConfirmations(client, sys, (message) => ctx.progress(message));
      const systemCpu = [...ROLES.map((r) => processes(r, () => [sys.role(r).child.pid])), postgresBackends(sys.db.url), processes("redis", () => [redisServer.pid])];
      const floorCpu = [thisProcess("bench"), postgresBackends(floorDb.url)];

      const eventCount = async () => Number((await sys.db.pool.query<{ n: string }>("SELECT count(*) AS n FROM events")).rows[0]!.n);
      /** The saga may append after the confirmation was seen: count once the log has stopped growing (bounded). */
      const settledEventCount = async () => {
        let last = await eventCount();
        for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
          await new Promise((r) => setTimeout(r, 300));
          const now = await eventCount();
          if (now === last) return now;
          last = now;
        }
        return last;
      };

      /** `n` checkouts, or as many as `durationMs` allows. */
      const checkoutLoop = (tag: string, n: number, concurrency: number, durationMs = 0) =>
        closedLoop({
          concurrency,
          ...(durationMs > 0 ? { durationMs } : { total: n }),
          op: async (i) => {
            const orderId = `bench-${tag}-${i}`;
            let timer: NodeJS.Timeout | undefined;
            const done = new Promise<void>((resolve, reject) => {
              confirmed.set(orderId, resolve);
              // 60 s as in overload: at 64 clients on a loaded machine the closed loop's queueing alone nears 30 s.
              timer = setTimeout(() => reject(new Error(`order ${orderId} not CONFIRMED within 60 s`)), 60_000);
            });
            try {
              await request(sys.url, PlaceOrderDocument, { input: { orderId, customerId: customerOf(i), lines: [{ sku: skuOf(i), quantity: 1 }] } });
              await done;
            } finally {
              clearTimeout(timer);
              confirmed.delete(orderId);
            }
          },
        });

      const measureCheckouts = async (tag: string, n: number, concurrency: number) => {
        const eventsBefore = await settledEventCount();
        const commandsBefore = await commandStats(sys.redis);
        const { value: result, cpu } = await withCpu(systemCpu, () => checkoutLoop(tag, n, concurrency));
        const events = (await settledEventCount()) - eventsBefore;
        const commands = commandDelta(commandsBefore, await commandStats(sys.redis));
        const s = summarize(result.latencies);
        const total = commands.reduce((sum, [, c]) => sum + c, 0);
        return {
          figures: {
            rate: result.ops / result.seconds,
            p50: s.p50,
            p99: s.p99,
            eventsPerCheckout: events / result.ops,
            commandsPerCheckout: total / result.ops,
            // What the roles send while idle (polls, ticks, heartbeats) grows with the run's length, not with checkouts.
            netCommandsPerCheckout: (total - idleCommandsPerSecond * result.seconds) / result.ops,
            ...cpuPerOp(cpu, result.ops, "cpu", "ms"),
            // Likewise the CPU of polls, ticks and heartbeats (ms per second of the run, charged to its checkouts).
            idleCpu: (idleCpuPerSecond * result.seconds) / result.ops,
          },
          commands,
        };
      };
      const measureFloor = async (template: CheckoutTemplate, tag: string, n: number, concurrency: number, eventsPerCheckout: number) => {
        const { value: result, cpu } = await withCpu(floorCpu, () => runFloor(floorDb.store, template, { concurrency, replays: n, tag, skuOf, customerOf }));
        const s = summarize(result.latencies);
        const eventsPerSecond = (result.ops * template.events) / result.seconds;
        // CPU per checkout's worth of events, as the rate is.
        const checkoutsWorth = (result.ops * template.events) / eventsPerCheckout;
        return { floorRate: eventsPerSecond / eventsPerCheckout, floorP50: s.p50, floorP99: s.p99, ...cpuPerOp(cpu, checkoutsWorth, "floorCpu", "ms") };
      };

      ctx.progress("warm-up checkouts; the floor's template is read from the first one's log");
      const warmup = Math.max(concurrencies[0]! * 2, 4);
      await checkoutLoop("warm", warmup, concurrencies[0]!);
      await settledEventCount();
      const template = await readCheckoutTemplate(sys.db.pool, { orderId: "bench-warm-0", sku: skuOf(0), customerId: customerOf(0) });
      ctx.progress("counting the Redis commands and CPU of an idle system (3 s)");
      const idleBefore = await commandStats(sys.redis);
      const { cpu: idleCpu } = await withCpu(systemCpu, () => new Promise((r) => setTimeout(r, IDLE_MS)));
      const idleCommandsPerSecond = commandDelta(idleBefore, await commandStats(sys.redis)).reduce((sum, [, c]) => sum + c, 0) / (IDLE_MS / 1000);
      const idleCpuPerSecond = idleCpu.total / (IDLE_MS / 1000);
      const idleParts = Object.fromEntries(Object.entries(idleCpu.parts).map(([name, ms]) => [`idle.${name}`, roundFigure(ms / (IDLE_MS / 1000))]));
      ctx.progress(`one checkout's log: ${template.events} events in ${template.appends.length} appends (${Object.entries(template.byStream).map(([k, v]) => `${k} ${v}`).join(", ")})`);

      for (const concurrency of concurrencies) {
        // Smoke runs one concurrency, already warmed by the template's checkouts.
        if (ctx.mode !== "smoke") {
          ctx.progress(`${concurrency} clients: warming the roles and the floor up (${ctx.warmupMs / 1000} s each)`);
          await checkoutLoop(`c${concurrency}w`, Math.max(concurrency * 2, 4), concurrency, ctx.warmupMs);
        }
        let round = 0;
        for (const until = Date.now() + ctx.warmupMs; round === 0 || Date.now() < until; round++) {
          await runFloor(floorDb.store, template, { concurrency, replays: Math.max(concurrency * 2, 4), tag: `c${concurrency}w${round}`, skuOf, customerOf });
        }
        const commandRuns: Array<Array<[string, number]>> = [];
        const m = medianOf(
          await repeat(ctx.runs, async (run) => {
            ctx.progress(`${checkouts} checkouts and the floor, ${concurrency} clients: run ${run + 1}/${ctx.runs}`);
            const tag = `c${concurrency}r${run}`;
            const floorFirst = run % 2 === 1;
            const floorEarly = floorFirst ? await measureFloor(template, `${tag}f`, checkouts, concurrency, template.events) : null;
            const c = await measureCheckouts(tag, checkouts, concurrency);
            commandRuns.push(c.commands);
            const floor = floorEarly
              ? { ...floorEarly, floorRate: (floorEarly.floorRate * template.events) / c.figures.eventsPerCheckout }
              : await measureFloor(template, `${tag}f`, checkouts, concurrency, c.figures.eventsPerCheckout);
            return { ...c.figures, ...floor };
          }),
        );
        const label = `${concurrency} clients`;
        const params = { checkouts, concurrency, products, customers, runs: ctx.runs, templateEvents: template.events, templateAppends: template.appends.length };
        const top = commandRuns.at(-1)!.slice(0, 8).map(([name, calls]) => `${name}:${(calls / checkouts).toFixed(1)}`).join(",");
        ctx.emit({ label, value: m.rate, unit: "checkouts/s", baseline: m.floorRate, params: { ...params, baseline: "log-append floor" }, ...(concurrency >= 64 ? { target: { on: "ratio" as const, op: ">=" as const, threshold: 0.4 } } : {}) });
        ctx.emit({ label: `${label}, p50`, value: m.p50, unit: "ms", baseline: m.floorP50, params: { ...params, stat: "p50" }, ...(concurrency <= 8 ? { target: { on: "value" as const, op: "<" as const, threshold: 60 } } : {}) });
        ctx.emit({ label: `${label}, p99`, value: m.p99, unit: "ms", baseline: m.floorP99, params: { ...params, stat: "p99" } });
        emitCpu(ctx, { label, op: "checkout", scale: "ms", figures: m, baselineKey: "floorCpu", params });
        ctx.emit({ label: `${label}, events`, value: m.eventsPerCheckout, unit: "events/checkout", params: { ...params, ...Object.fromEntries(Object.entries(template.byStream).map(([k, v]) => [`template.${k}`, v])) } });
        ctx.emit({ label: `${label}, Redis commands`, value: m.commandsPerCheckout, unit: "commands/checkout", params: { ...params, top, commandsMedian: median(commandRuns.map((r) => r.reduce((s, [, c]) => s + c, 0))) } });
        ctx.emit({ label: `${label}, CPU of the idle system`, value: m.idleCpu, unit: "ms CPU/checkout", params: { ...params, idleCpuMsPerSecond: roundFigure(idleCpuPerSecond), ...idleParts } });
        ctx.emit({ label: `${label}, Redis commands net of idle`, value: m.netCommandsPerCheckout, unit: "commands/checkout", params: { ...params, idleCommandsPerSecond } });
        if (ctx.args.has("round-trips")) {
          const sample = Math.min(checkouts, 100);
          ctx.progress(`${concurrency} clients: ${sample} checkouts under MONITOR`);
          const trips = [...(await roundTrips(redisServer.url, () => checkoutLoop(`c${concurrency}m`, sample, concurrency), { byQueue: true }))]
            .filter(([name]) => name !== "monitor")
            .sort((a, b) => b[1] - a[1]);
          const total = trips.reduce((sum, [, calls]) => sum + calls, 0);
          const top = trips.map(([name, calls]) => `${name}:${(calls / sample).toFixed(2)}`).join(" ");
          ctx.emit({ label: `${label}, top-level Redis commands`, value: total / sample, unit: "commands/checkout", params: { ...params, sample, top } });
        }
      }
    } finally {
      await client?.dispose();
      await system?.release();
      await floorDb.release();
      await redisServer.stop();
    }
  },
};
