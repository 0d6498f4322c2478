import type { Client } from "graphql-ws";
import { PlaceOrderDocument } from "../test/graphql/generated";
import { execute, wsClient } from "../test/support/graphqlClient";
import { followConfirmations, seedCheckoutCatalog } from "./lib/checkoutCatalog";
import { moneyConservation, stockConservation, stuckJobs } from "../test/support/invariants";
import { benchSystem } from "./lib/env";
import { closedLoop } from "./lib/load";
import { postgresBackends, processes, withCpu } from "./lib/cpuMeter";
import { startPrivateRedis } from "./lib/privateRedis";
import type { Scenario } from "./lib/scenario";
import { summarize } from "./lib/stats";

/**
 * Checkout past saturation: closed-loop clients ramp from the saturating
 * concurrency to 4× it. Goodput (checkouts CONFIRMED per second) at each step
 * is printed against the best step's (the peak) as baseline; it must stay at
 * 0.8× or more. Latency and CPU per checkout (of the role processes, the database's PostgreSQL backends and Redis) are
 * printed against the saturating step's. A client refused with OVERLOADED waits retryAfterMs and
 * resends the same order (the refusal is counted); any other error is counted
 * too. Latency runs from the first attempt to CONFIRMED. Afterwards every
 * accepted order must be confirmed and stock, money and jobs must check out
 * (test/support/invariants.ts): nothing accepted is lost.
 */
const RETRYABLE = new Set(["OVERLOADED", "UNAVAILABLE", "COMMAND_TIMEOUT", "CONCURRENCY_CONFLICT"]);
const ROLES = ["api", "projector", "saga", "inventory", "ordering", "payments"];

export const overloadScenario: Scenario = {
  name: "overload",
  summary: "checkout goodput and latency from the saturating concurrency to 4× it, errors by code, invariants after",
  flags: {
    saturating: "concurrency that saturates checkout on this machine (default 16); steps are 1×, 2× and 4× it",
    seconds: "seconds per step (default 20)",
    "max-queued": "COMMAND_MAX_QUEUED of the run (default 32)",
  },
  async run(ctx) {
    const saturating = ctx.args.int("saturating", { single: 16, suite: 16, smoke: 2 }, ctx.mode);
    const seconds = ctx.args.int("seconds", { single: 20, suite: 10, smoke: 1 }, ctx.mode);
    const maxQueued = ctx.args.int("max-queued", { single: 32, smoke: 4 }, ctx.mode);
    const products = ctx.mode === "smoke" ? 3 : 20;
    const customers = ctx.mode === "smoke" ? 8 : 64;

    ctx.progress(`starting ${ROLES.join(", ")} processes (COMMAND_MAX_QUEUED=${maxQueued})`);
    // A Redis of the run's own, so that its CPU counts in CPU per checkout.
    const redisServer = await startPrivateRedis();
    const system = await benchSystem(ROLES, { COMMAND_MAX_QUEUED: String(maxQueued), OVERLOAD_RETRY_AFTER_MS: "200", REDIS_URL: redisServer.url }).catch(async (error: unknown) => {
      await redisServer.stop();
      throw error;
    });
    let client: Client | null = null;
    try {
      await seedCheckoutCatalog(system.url, "OVER", products, customers);

      const accepted = new Set<string>();
      client = wsClient(system.url.replace(/^http/, "ws"));
      const confirmed = await followConfirmations(client, system, (message) => ctx.progress(message));
      const cpuSources = [processes("roles", () => ROLES.map((r) => system.role(r).child.pid)), postgresBackends(system.db.url), processes("redis", () => [redisServer.pid])];

      let stepNo = 0;
      const step = async (concurrency: number) => {
        const tag = `s${stepNo++}`;
        const errors: Record<string, number> = {};
        const { value: result, cpu } = await withCpu(cpuSources, () => closedLoop({
          concurrency,
          durationMs: seconds * 1000,
          op: async (i) => {
            const orderId = `over-${tag}-${i}`;
            const input = { orderId, customerId: `over-${i % customers}`, lines: [{ sku: `OVER-${i % products}`, quantity: 1 }] };
            let timer: NodeJS.Timeout | undefined;
            const done = new Promise<void>((resolve, reject) => {
              confirmed.set(orderId, resolve);
              timer = setTimeout(() => reject(new Error(`order ${orderId} not CONFIRMED within 60 s`)), 60_000);
            });
            try {
              // Resent unchanged until accepted: orderId makes the resend safe, as a client's commandId would.
              for (;;) {
                const { errors: errs } = await execute(system.url, PlaceOrderDocument, { input });
                const first = errs?.[0];
                if (!first) break;
                const code = String(first.extensions?.code ?? "none");
                errors[code] = (errors[code] ?? 0) + 1;
                if (code === "ALREADY_EXISTS") break; // an earlier attempt that timed out was accepted after all
                if (!RETRYABLE.has(code)) throw new Error(`placeOrder ${orderId}: ${code}: ${first.message}`);
                const wait = Number(first.extensions?.retryAfterMs ?? 200);
                await new Promise((resolve) => setTimeout(resolve, wait));
              }
              accepted.add(orderId);
              await done;
            } finally {
              clearTimeout(timer);
              confirmed.delete(orderId);
            }
          },
        }));
        const cpuMs = cpu.total;
        const s = summarize(result.latencies);
        return { goodput: result.ops / result.seconds, p50: s.p50, p99: s.p99, cpuMs: cpuMs / Math.max(1, result.ops), errors };
      };

      if (ctx.mode !== "smoke") await step(saturating); // warm-up, not reported
      const steps: Array<{ concurrency: number; goodput: number; p50: number; p99: number; cpuMs: number; errors: Record<string, number> }> = [];
      for (const factor of [1, 2, 4]) {
        const concurrency = saturating * factor;
        ctx.progress(`${concurrency} clients for ${seconds} s`);
        const m = await step(concurrency);
        steps.push({ concurrency, ...m });
        ctx.progress(`  ${m.goodput.toFixed(1)} checkouts/s, p50 ${Math.round(m.p50)} ms, p99 ${Math.round(m.p99)} ms, errors ${JSON.stringify(m.errors)}`);
      }
      // Goodput against the best step (the peak); latency and CPU against the saturating step's.
      const peak = steps.reduce((best, s) => (s.goodput > best.goodput ? s : best));
      const first = steps[0]!;
      for (const s of steps) {
        const errors = Object.entries(s.errors).map(([code, n]) => `${code}:${n}`).join(",") || "none";
        const params = { concurrency: s.concurrency, saturating, seconds, maxQueued, errors };
        const label = `${s.concurrency} clients`;
        ctx.emit({ label, value: s.goodput, unit: "checkouts/s", baseline: peak.goodput, params });
        ctx.emit({ label: `${label}, p50`, value: s.p50, unit: "ms", baseline: first.p50, params: { ...params, stat: "p50" } });
        ctx.emit({ label: `${label}, p99`, value: s.p99, unit: "ms", baseline: first.p99, params: { ...params, stat: "p99" } });
        if (s.cpuMs > 0) ctx.emit({ label: `${label}, CPU`, value: s.cpuMs, unit: "ms CPU/checkout", baseline: first.cpuMs || null, params: { ...params, stat: "cpu" } });
      }
      // The bar is on what follows the peak: more clients than the system can serve must not make it serve fewer.
      const worst = Math.min(...steps.slice(steps.indexOf(peak)).map((s) => s.goodput / peak.goodput));
      const note = peak === steps[0] ? "" : ` (the peak came at ${peak.concurrency} clients: --saturating ${saturating} does not saturate here)`;
      ctx.progress(`goodput after the peak stays at ${worst.toFixed(2)}× it or more (bar: 0.8×): ${worst >= 0.8 ? "PASS" : "FAIL"}${note}`);

      ctx.progress(`checking invariants over ${accepted.size} accepted orders`);
      const stock = await stockConservation(system.db);
      const money = await moneyConservation(system.db);
      const stuck = await stuckJobs(system.redis, system.prefix);
      const { rows } = await system.db.pool.query<{ n: string }>(
        "SELECT count(DISTINCT data->>'orderId') AS n FROM events WHERE type = 'OrderConfirmed' AND data->>'orderId' LIKE 'over-%'",
      );
      const problems = [
        ...stock.map((p) => `${p.sku}: ${p.problem}`),
        ...(money.accounted !== money.putIn || money.negative ? [`money: ${JSON.stringify(money)}`] : []),
        ...stuck,
        ...(Number(rows[0]?.n) < accepted.size ? [`${accepted.size} orders accepted, ${rows[0]?.n} confirmed in the log`] : []),
      ];
      if (problems.length) throw new Error(`invariants broken after overload: ${problems.join("; ")}`);
      ctx.progress("invariants hold: every accepted order confirmed, stock and money conserved, no stuck job");
    } finally {
      await client?.dispose();
      await system.release();
      await redisServer.stop();
    }
  },
};
