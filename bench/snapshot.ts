import { isDeepStrictEqual } from "node:util";
import { CommandHandler } from "../src/platform/aggregate/commandHandler";
import type { NewEvent } from "../src/platform/eventstore/types";
import { productDecider, productStreamId } from "../src/services/inventory/decider";
import { postgresBackends, thisProcess, withCpu } from "./lib/cpuMeter";
import { cpuPerOp, emitCpu } from "./lib/cpuReport";
import { benchDatabase, type BenchDatabase } from "./lib/env";
import { benchMetadata, multiRowInsert, productDefined, rawRow, stockReserved } from "./lib/inventoryEvents";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat, summarize } from "./lib/stats";

/**
 * Loading one long product stream through CommandHandler.load (read, upcast,
 * fold with productDecider) from a snapshot plus the events after it, against
 * the same handler folding the whole stream from the start (no snapshot).
 * The stream is restocks and price changes by default, so the figure is the
 * cost of reading and folding the log; `--kind reservations` makes it one
 * StockReserved per event, a product with as many reservations as events
 * (what evolve must fold at a constant cost per event, see BENCHMARKS.md).
 */
type Kind = "restocks" | "reservations";

export const snapshotScenario: Scenario = {
  name: "snapshot",
  summary: "loads/s of a long stream from its snapshot plus tail; baseline: folding the whole stream",
  flags: {
    events: "events in the stream (default 10000; 300 with --smoke)",
    tail: "events after the snapshot (default 50: half of SNAPSHOT_EVERY's default, the average tail)",
    loads: "loads per measurement and path (default 20)",
    kind: "restocks (restocks and price changes, default) or reservations (one StockReserved per event)",
  },
  async run(ctx) {
    const events = ctx.args.int("events", { single: 10_000, smoke: 300 }, ctx.mode);
    const tail = ctx.args.int("tail", { single: 50, smoke: 10 }, ctx.mode, 0);
    const loads = ctx.args.int("loads", { single: 20, smoke: 2 }, ctx.mode);
    const [kind = "restocks"] = ctx.args.choiceList<Kind>("kind", ["restocks", "reservations"], { single: ["restocks"], smoke: ["restocks"] }, ctx.mode);
    if (tail >= events) throw new Error(`--tail (${tail}) must be smaller than --events (${events})`);

    const db = await benchDatabase(4);
    try {
      const store = db.store; // validates and upcasts, as the services' stores do
      const sku = "SNAP-001";
      const stream = productStreamId(sku);
      ctx.progress(`seeding a stream of ${events} events, snapshot at ${events - tail}`);
      await seed(db, sku, 1, events - tail, kind);
      const withSnapshots = new CommandHandler(store, productDecider);
      const fromStart = new CommandHandler(store, productDecider, { snapshotEvery: 0 });
      await withSnapshots.rebuildSnapshot(stream);
      await seed(db, sku, events - tail + 1, events, kind);

      const viaSnapshot = await withSnapshots.load(stream);
      const viaLog = await fromStart.load(stream);
      if (viaSnapshot.snapshotVersion !== events - tail || viaSnapshot.version !== events) {
        throw new Error(`expected a snapshot at ${events - tail} and version ${events}, got ${viaSnapshot.snapshotVersion} and ${viaSnapshot.version}`);
      }
      if (!isDeepStrictEqual(viaSnapshot.state, viaLog.state)) throw new Error("the state loaded from the snapshot differs from the full fold");

      const time = async (load: () => Promise<unknown>) =>
        withCpu([thisProcess(), postgresBackends(db.url)], async () => {
          const latencies: number[] = [];
          for (let i = 0; i < loads; i++) {
            const started = performance.now();
            await load();
            latencies.push(performance.now() - started);
          }
          return latencies;
        });
      const loadViaSnapshot = () => withSnapshots.load(stream);
      const loadFromStart = () => fromStart.load(stream);
      const measure = async (run: number) => {
        const snapshotFirst = run % 2 === 0;
        const first = await time(snapshotFirst ? loadViaSnapshot : loadFromStart);
        const second = await time(snapshotFirst ? loadFromStart : loadViaSnapshot);
        const [snap, full] = snapshotFirst ? [first, second] : [second, first];
        const s = summarize(snap.value);
        const f = summarize(full.value);
        return {
          rate: 1000 / mean(snap.value), p50: s.p50, baseRate: 1000 / mean(full.value), baseP50: f.p50,
          ...cpuPerOp(snap.cpu, loads, "cpu", "ms"), ...cpuPerOp(full.cpu, loads, "baseCpu", "ms"),
        };
      };
      await measure(1); // warm-up: JIT, connections, PostgreSQL's buffers
      const m = medianOf(
        await repeat(ctx.runs, (run) => {
          ctx.progress(`run ${run + 1}/${ctx.runs}`);
          return measure(run);
        }),
      );
      const label = `${events} events${kind === "reservations" ? " (reservations)" : ""}, tail ${tail}`;
      const params = { events, tail, loads, kind, runs: ctx.runs };
      ctx.emit({ label, value: m.rate, unit: "loads/s", baseline: m.baseRate, params });
      ctx.emit({ label: `${label}, p50`, value: m.p50, unit: "ms", baseline: m.baseP50, params: { ...params, stat: "p50" } });
      emitCpu(ctx, { label, op: "load", scale: "ms", figures: m, baselineKey: "baseCpu", params });
    } finally {
      await db.release();
    }
  },
};

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Versions `from`..`to` of the stream, straight into the log: ProductDefined, then restocks and price changes (or reservations). */
async function seed(db: BenchDatabase, sku: string, from: number, to: number, kind: Kind): Promise<void> {
  const stream = productStreamId(sku);
  for (let start = from; start <= to; start += 1000) {
    const end = Math.min(to, start + 999);
    const rows = Array.from({ length: end - start + 1 }, (_, i) => rawRow(stream, start + i, kind === "reservations" && start + i > 1 ? stockReserved(sku, `snap-${start + i}`) : eventAt(sku, start + i)));
    await db.pool.query(multiRowInsert("events", rows.length), rows.flat());
  }
}

function eventAt(sku: string, version: number): NewEvent {
  if (version === 1) return productDefined(sku);
  const metadata = benchMetadata(`snap-${version}`);
  if (version % 2 === 0) return { type: "StockRestocked", data: { sku, quantity: 1 }, metadata };
  const previousPriceMinor = version === 3 ? (productDefined(sku).data as { priceMinor: number }).priceMinor : 1000 + version - 2;
  return { type: "ProductPriceChanged", data: { sku, priceMinor: 1000 + version, previousPriceMinor }, metadata };
}
