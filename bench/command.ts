import { CommandHandler } from "../src/platform/aggregate/commandHandler";
import type { InventoryCommand } from "../src/services/inventory/commands";
import { productDecider, productStreamId } from "../src/services/inventory/decider";
import { benchDatabase, type BenchDatabase } from "./lib/env";
import { benchSku, multiRowInsert, productDefined, rawRow, stockReserved } from "./lib/inventoryEvents";
import { postgresBackends, thisProcess, withCpu } from "./lib/cpuMeter";
import { cpuPerOp, emitCpu } from "./lib/cpuReport";
import { closedLoop, type LoadResult } from "./lib/load";
import type { Scenario } from "./lib/scenario";
import { medianOf, repeat, summarize } from "./lib/stats";

/**
 * Commands/s and latency through CommandHandler (duplicate check, load the
 * stream, fold, decide, append with the expected version) with Inventory's
 * productDecider: ReserveStock on one hot product, or spread over many cold
 * ones. Baseline: EventStore.append of the same event to the same streams at
 * the same concurrency, serialised per stream in the process as the handler does.
 */
type Temperature = "hot" | "cold";

export const commandScenario: Scenario = {
  name: "command",
  summary: "commands/s, p50/p99 through CommandHandler (productDecider); baseline: EventStore.append",
  flags: {
    commands: "commands per measurement (default 2000; 400 in the suite)",
    concurrency: "concurrent callers, comma-separated (default 1,8,32)",
    streams: "hot (one product) and/or cold (many products), default both",
    products: "products for cold streams (default 1000)",
  },
  async run(ctx) {
    const commands = ctx.args.int("commands", { single: 2000, suite: 400, smoke: 30 }, ctx.mode);
    const concurrencies = ctx.args.intList("concurrency", { single: [1, 8, 32], suite: [1, 8], smoke: [4] }, ctx.mode);
    const temperatures = ctx.args.choiceList<Temperature>("streams", ["hot", "cold"], { single: ["hot", "cold"], smoke: ["hot", "cold"] }, ctx.mode);
    const products = ctx.args.int("products", { single: 1000, smoke: 20 }, ctx.mode);

    const db = await benchDatabase(Math.max(...concurrencies));
    try {
      // Cold products: defined once (straight into the log), shared by every run.
      const cold = Array.from({ length: products }, (_, p) => benchSku(p));
      for (let i = 0; i < cold.length; i += 1000) {
        const chunk = cold.slice(i, i + 1000);
        await db.pool.query(multiRowInsert("events", chunk.length), chunk.flatMap((sku) => rawRow(productStreamId(sku), 1, productDefined(sku))));
      }
      let caseNo = 0;
      for (const temperature of temperatures) {
        for (const concurrency of concurrencies) {
          const label = `${temperature}, c=${concurrency}`;
          const tag = `k${caseNo++}`;
          const measure = async (run: number | "warm-up") => {
            const n = run === "warm-up" ? Math.max(20, concurrency * 4) : commands;
            // A hot stream of its own for each path: the handler reads the whole stream, so it must not see the other's events.
            const skus = async (path: string) => (temperature === "cold" ? cold : [await defineHot(db, `HOT-${tag}-${run}-${path}`.toUpperCase())]);
            const cpuOf = [thisProcess(), postgresBackends(db.url)];
            const viaHandler = async () => {
              const s = await skus("h");
              return withCpu(cpuOf, () => runCommands(db, s, concurrency, n, `${tag}-${run}`));
            };
            const viaAppend = async () => {
              const s = await skus("a");
              return withCpu(cpuOf, () => runAppends(db, s, concurrency, n, `${tag}-${run}`));
            };
            const storeFirst = typeof run === "number" && run % 2 === 1;
            const first = storeFirst ? await viaHandler() : await viaAppend();
            const second = storeFirst ? await viaAppend() : await viaHandler();
            const [{ value: handler, cpu: handlerCpu }, { value: append, cpu: appendCpu }] = storeFirst ? [first, second] : [second, first];
            const h = summarize(handler.latencies);
            const a = summarize(append.latencies);
            return {
              rate: handler.ops / handler.seconds, p50: h.p50, p99: h.p99, baseRate: append.ops / append.seconds, baseP50: a.p50, baseP99: a.p99,
              ...cpuPerOp(handlerCpu, handler.ops, "cpu", "µs"), ...cpuPerOp(appendCpu, append.ops, "baseCpu", "µs"),
            };
          };
          await measure("warm-up");
          const m = medianOf(
            await repeat(ctx.runs, (run) => {
              ctx.progress(`${label}: run ${run + 1}/${ctx.runs}`);
              return measure(run);
            }),
          );
          const params = { streams: temperature, concurrency, commands, products: temperature === "cold" ? products : 1, runs: ctx.runs };
          ctx.emit({ label, value: m.rate, unit: "commands/s", baseline: m.baseRate, params });
          ctx.emit({ label: `${label}, p50`, value: m.p50, unit: "ms", baseline: m.baseP50, params: { ...params, stat: "p50" } });
          ctx.emit({ label: `${label}, p99`, value: m.p99, unit: "ms", baseline: m.baseP99, params: { ...params, stat: "p99" } });
          emitCpu(ctx, { label, op: "command", scale: "µs", figures: m, baselineKey: "baseCpu", params });
        }
      }
    } finally {
      await db.release();
    }
  },
};

async function defineHot(db: BenchDatabase, sku: string): Promise<string> {
  await db.store.append(productStreamId(sku), "no_stream", [productDefined(sku)]);
  return sku;
}

function runCommands(db: BenchDatabase, skus: string[], concurrency: number, total: number, tag: string): Promise<LoadResult> {
  const handler = new CommandHandler(db.store, productDecider);
  return closedLoop({
    concurrency,
    total,
    op: (i) => {
      const sku = skus[Math.floor(Math.random() * skus.length)]!;
      const command: InventoryCommand = { type: "ReserveStock", sku, orderId: `c-${tag}-${i}`, quantity: 1 };
      return handler.handle(productStreamId(sku), command, { commandId: `c-${tag}-${i}`, actor: "bench" });
    },
  });
}

/** The same events appended directly: per-stream queue in the process, expected version tracked locally. */
async function runAppends(db: BenchDatabase, skus: string[], concurrency: number, total: number, tag: string): Promise<LoadResult> {
  const { rows } = await db.pool.query<{ stream_id: string; v: number }>(
    "SELECT stream_id, max(stream_version) AS v FROM events WHERE stream_id = ANY($1) GROUP BY stream_id",
    [skus.map(productStreamId)],
  );
  const versions = new Map(rows.map((r) => [r.stream_id, Number(r.v)]));
  const queues = new Map<string, Promise<unknown>>();
  return closedLoop({
    concurrency,
    total,
    op: (i) => {
      const sku = skus[Math.floor(Math.random() * skus.length)]!;
      const stream = productStreamId(sku);
      const append = async () => {
        const version = versions.get(stream)!;
        await db.store.append(stream, version, [stockReserved(sku, `a-${tag}-${i}`)]);
        versions.set(stream, version + 1);
      };
      const run = (queues.get(stream) ?? Promise.resolve()).then(append);
      queues.set(stream, run.catch(() => undefined));
      return run;
    },
  });
}
