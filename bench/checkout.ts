import { print } from "graphql";
import {
  DefineProductDocument,
  OpenAccountDocument,
  OrderChangesDocument,
  PlaceOrderDocument,
  ProductDocument,
} from "../test/graphql/generated";
import { request, wsClient } from "../test/support/graphqlClient";
import { startSystem } from "../test/support/system";

/**
 * Checkout latency end to end: placeOrder until the order is CONFIRMED, as a
 * subscriber sees it, with every role in its own process. Each of the
 * `concurrency` clients places its next order once its last one is confirmed.
 * Usage: npm run bench -- [--checkouts 300] [--concurrency 8] [--products 20] [--customers 50] [--json]
 */
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const CHECKOUTS = option("checkouts", 300);
const CONCURRENCY = option("concurrency", 8);
const PRODUCTS = option("products", 20);
const CUSTOMERS = option("customers", 50);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const system = await startSystem(["api", "projector", "saga", "inventory", "ordering", "payments"]);
  try {
    // Spread over products and customers, as real traffic is; a single hot stream serialises by design.
    let last = "";
    for (let p = 0; p < PRODUCTS; p++) {
      const { defineProduct } = await request(system.url, DefineProductDocument, {
        input: { sku: `BENCH-${p}`, name: `bench ${p}`, priceMinor: 100, currency: "EUR", initialStock: 1_000_000 },
      });
      last = defineProduct.position!;
    }
    for (let c = 0; c < CUSTOMERS; c++) {
      await request(system.url, OpenAccountDocument, { customerId: `bench-${c}`, currency: "EUR", initialBalanceMinor: 10_000_000_000 });
    }
    await request(system.url, ProductDocument, { id: "BENCH-0", waitFor: last });

    const started = new Map<string, number>();
    const confirmed = new Map<string, () => void>();
    const latencies: number[] = [];
    let resolveAll: () => void = () => undefined;
    const allDone = new Promise<void>((r) => (resolveAll = r));
    const client = wsClient(system.url.replace(/^http/, "ws"));
    client.subscribe<{ orderChanges: { eventType: string; order: { id: string; status: string } | null } }>(
      { query: print(OrderChangesDocument) },
      {
        next: ({ data }) => {
          const order = data?.orderChanges.order;
          if (!order || order.status !== "CONFIRMED" || !started.has(order.id)) return;
          latencies.push(performance.now() - started.get(order.id)!);
          started.delete(order.id);
          confirmed.get(order.id)?.();
          if (latencies.length === CHECKOUTS) resolveAll();
        },
        error: (e) => {
          if (latencies.length < CHECKOUTS) console.error("subscription failed:", e);
        },
        complete: () => undefined,
      },
    );
    await new Promise((r) => setTimeout(r, 300));

    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < CHECKOUTS) {
        const n = next++;
        const orderId = `bench-${n}`;
        const done = new Promise<void>((r) => confirmed.set(orderId, r));
        started.set(orderId, performance.now());
        await request(system.url, PlaceOrderDocument, {
          input: { orderId, customerId: `bench-${n % CUSTOMERS}`, lines: [{ sku: `BENCH-${n % PRODUCTS}`, quantity: 1 }] },
        });
        await done; // closed loop: each client waits for its checkout, so latency is not queueing behind a burst
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await allDone;
    const seconds = (performance.now() - t0) / 1000;
    await client.dispose();

    const sorted = [...latencies].sort((a, b) => a - b);
    const result = {
      scenario: "checkout",
      checkouts: CHECKOUTS,
      concurrency: CONCURRENCY,
      perSecond: Math.round(CHECKOUTS / seconds),
      p50ms: Math.round(percentile(sorted, 50)),
      p99ms: Math.round(percentile(sorted, 99)),
      maxMs: Math.round(sorted.at(-1)!),
    };
    console.log(args.includes("--json") ? JSON.stringify(result) : result);
  } finally {
    await system.shutdown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
