import type { Client } from "graphql-ws";
import { PlaceOrderDocument } from "../test/graphql/generated";
import { request, wsClient } from "../test/support/graphqlClient";
import { followConfirmations, seedCheckoutCatalog } from "./lib/checkoutCatalog";
import { benchSystem } from "./lib/env";
import { closedLoop } from "./lib/load";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat, summarize } from "./lib/stats";

/**
 * Checkout end to end: placeOrder until the order is CONFIRMED, as a
 * subscriber sees it, with every role in its own process (api, projector,
 * saga, inventory, ordering, payments). Closed loop: each of the clients
 * places its next order once its last one is confirmed, so latency is not
 * queueing behind a burst. No baseline: nothing simpler does the same work.
 */

export const checkoutScenario: Scenario = {
  name: "checkout",
  summary: "completed checkouts/s, p50/p99 placeOrder → CONFIRMED, every role in its own process",
  flags: {
    checkouts: "checkouts per measurement (default 300; 150 in the suite)",
    concurrency: "concurrent clients, each waiting for its order's confirmation (default 8)",
    products: "products the orders are spread over (default 20)",
    customers: "customers the orders are spread over (default 50)",
  },
  async run(ctx) {
    const checkouts = ctx.args.int("checkouts", { single: 300, suite: 150, smoke: 6 }, ctx.mode);
    const [concurrency] = ctx.args.intList("concurrency", { single: [8], smoke: [3] }, ctx.mode);
    const products = ctx.args.int("products", { single: 20, smoke: 3 }, ctx.mode);
    const customers = ctx.args.int("customers", { single: 50, smoke: 3 }, ctx.mode);

    ctx.progress("starting api, projector, saga, inventory, ordering and payments processes");
    const system = await benchSystem(["api", "projector", "saga", "inventory", "ordering", "payments"]);
    let client: Client | null = null;
    try {
      await seedCheckoutCatalog(system.url, "BENCH", products, customers);

      client = wsClient(system.url.replace(/^http/, "ws"));
      const confirmed = await followConfirmations(client, system, (message) => ctx.progress(message));

      const measure = async (tag: string, n: number) => {
        const result = await closedLoop({
          concurrency: concurrency!,
          total: n,
          op: async (i) => {
            const orderId = `bench-${tag}-${i}`;
            let timer: NodeJS.Timeout | undefined;
            const done = new Promise<void>((resolve, reject) => {
              confirmed.set(orderId, resolve);
              timer = setTimeout(() => reject(new Error(`order ${orderId} not CONFIRMED within 30 s`)), 30_000);
            });
            try {
              await request(system.url, PlaceOrderDocument, {
                input: { orderId, customerId: `bench-${i % customers}`, lines: [{ sku: `BENCH-${i % products}`, quantity: 1 }] },
              });
              await done;
            } finally {
              clearTimeout(timer);
              confirmed.delete(orderId);
            }
          },
        });
        const s = summarize(result.latencies);
        return { rate: result.ops / result.seconds, p50: s.p50, p99: s.p99, max: s.max };
      };

      await measure("warm", Math.max(concurrency! * 2, 4));
      const m = medianOf(
        await repeat(ctx.runs, (run) => {
          ctx.progress(`${checkouts} checkouts, ${concurrency} clients: run ${run + 1}/${ctx.runs}`);
          return measure(`r${run}`, checkouts);
        }),
      );
      const label = `${concurrency} clients`;
      const params = { checkouts, concurrency: concurrency!, products, customers, runs: ctx.runs };
      ctx.emit({ label, value: m.rate, unit: "checkouts/s", params });
      ctx.emit({ label: `${label}, p50`, value: m.p50, unit: "ms", params: { ...params, stat: "p50" } });
      ctx.emit({ label: `${label}, p99`, value: m.p99, unit: "ms", params: { ...params, stat: "p99" } });
    } finally {
      await client?.dispose();
      await system.release();
    }
  },
};
