import type { NewEvent } from "../src/platform/eventstore/types";
import { benchDatabase, type BenchDatabase } from "./lib/env";
import { multiRowInsert, rawRow, stockReserved } from "./lib/inventoryEvents";
import { postgresBackends, thisProcess, withCpu } from "./lib/cpuMeter";
import { emitCpu } from "./lib/cpuReport";
import { closedLoop } from "./lib/load";
import type { Scenario } from "./lib/scenario";
import { median, repeat } from "./lib/stats";

/**
 * Events/s through EventStore.append (one guarded INSERT ... WITH statement
 * per append), against raw INSERTs of the same rows into a table of the same
 * shape (same columns, defaults, constraints and indexes) through `pg` at the
 * same concurrency: the cost of the event store's logic on top of the write.
 */
const RAW_TABLE = "raw_events";
const STREAMS_PER_CLIENT = 4;

type StreamKind = "new" | "existing";

interface Case {
  kind: StreamKind;
  concurrency: number;
  batch: number;
  events: number;
}

export const appendScenario: Scenario = {
  name: "append",
  summary: "events/s through EventStore.append; baseline: raw INSERTs of the same rows at the same concurrency",
  flags: {
    events: "events per measurement (default 20000; 3000 in the suite)",
    concurrency: "concurrent appenders, comma-separated (default 1,8,32)",
    batch: "events per append, comma-separated (default 1,10)",
    streams: "new (every append starts a stream) and/or existing (appends with an expected version), default both",
  },
  async run(ctx) {
    const events = ctx.args.int("events", { single: 20_000, suite: 3000, smoke: 40 }, ctx.mode);
    const concurrencies = ctx.args.intList("concurrency", { single: [1, 8, 32], smoke: [1, 4] }, ctx.mode);
    const batches = ctx.args.intList("batch", { single: [1, 10], smoke: [1, 10] }, ctx.mode);
    const kinds = ctx.args.choiceList<StreamKind>("streams", ["new", "existing"], { single: ["new", "existing"], smoke: ["new", "existing"] }, ctx.mode);

    const db = await benchDatabase(Math.max(...concurrencies));
    try {
      await db.pool.query(`CREATE TABLE ${RAW_TABLE} (LIKE events INCLUDING ALL)`);
      let caseNo = 0;
      for (const batch of batches) {
        for (const kind of kinds) {
          for (const concurrency of concurrencies) {
            const c: Case = { kind, concurrency, batch, events };
            const label = `${kind} streams, c=${concurrency}, batch ${batch}`;
            const tag = `k${caseNo++}`;
            await measureCase(db, c, `${tag}w`, Math.max(concurrency * 4, 20)); // opens connections, warms the JIT
            const runs = await repeat(ctx.runs, async (run) => {
              ctx.progress(`${label}: run ${run + 1}/${ctx.runs}`);
              return measureCase(db, c, `${tag}r${run}`, Math.ceil(events / batch), run % 2 === 1);
            });
            const params = { streams: kind, concurrency, batch, events, runs: ctx.runs };
            ctx.emit({
              label,
              value: median(runs.map((r) => r.store.rate)),
              unit: "events/s",
              baseline: median(runs.map((r) => r.raw.rate)),
              params,
              target: { on: "ratio", op: ">=", threshold: 0.8 },
            });
            const figures = { cpu: median(runs.map((r) => r.store.cpu)), baseCpu: median(runs.map((r) => r.raw.cpu)) };
            emitCpu(ctx, { label, op: "event", scale: "µs", figures, baselineKey: "baseCpu", params });
          }
        }
      }
    } finally {
      await db.release();
    }
  },
};

/** One measurement of each path (baseline first on even runs, second on odd ones). */
async function measureCase(db: BenchDatabase, c: Case, tag: string, appends: number, storeFirst = false) {
  const measureStore = () => run(db, c, tag, appends, "store");
  const measureRaw = () => run(db, c, tag, appends, "raw");
  if (storeFirst) {
    const store = await measureStore();
    return { store, raw: await measureRaw() };
  }
  const raw = await measureRaw();
  return { store: await measureStore(), raw };
}

/** Events/s, and CPU µs per event of this process and the database's backends. */
async function run(db: BenchDatabase, c: Case, tag: string, appends: number, path: "store" | "raw"): Promise<{ rate: number; cpu: number }> {
  const versions = new Map<string, number>();
  const clientOps = new Array<number>(c.concurrency).fill(0);
  if (c.kind === "existing") await createStreams(db, c, tag, path, versions);

  const eventsFor = (stream: string, i: number): NewEvent[] =>
    Array.from({ length: c.batch }, (_, k) => stockReserved(stream, `${tag}-${i}-${k}`));

  const { value: result, cpu } = await withCpu([thisProcess(), postgresBackends(db.url)], () => closedLoop({
    concurrency: c.concurrency,
    total: appends,
    op: async (i, client) => {
      const stream = c.kind === "new" ? `bench-${tag}-${i}` : `bench-${tag}-${client}-${clientOps[client]!++ % STREAMS_PER_CLIENT}`;
      const version = versions.get(stream) ?? 0;
      const events = eventsFor(stream, i);
      if (path === "store") {
        await db.store.append(stream, version === 0 ? "no_stream" : version, events);
      } else {
        await db.pool.query(
          multiRowInsert(RAW_TABLE, events.length),
          events.flatMap((e, k) => rawRow(stream, version + k + 1, e)),
        );
      }
      versions.set(stream, version + events.length);
    },
  }));
  return { rate: (result.ops * c.batch) / result.seconds, cpu: (cpu.total * 1000) / Math.max(1, result.ops * c.batch) };
}

/** Streams the clients append to, one event each, written before the clock starts. */
async function createStreams(db: BenchDatabase, c: Case, tag: string, path: "store" | "raw", versions: Map<string, number>) {
  const streams: string[] = [];
  for (let client = 0; client < c.concurrency; client++) {
    for (let k = 0; k < STREAMS_PER_CLIENT; k++) streams.push(`bench-${tag}-${client}-${k}`);
  }
  const table = path === "store" ? "events" : RAW_TABLE;
  await db.pool.query(
    multiRowInsert(table, streams.length),
    streams.flatMap((s) => rawRow(s, 1, stockReserved(s, `${tag}-init`))),
  );
  for (const s of streams) versions.set(s, 1);
}
