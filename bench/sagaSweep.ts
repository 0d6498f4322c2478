import { EventStore } from "../src/platform/eventstore/eventStore";
import type { NewEvent } from "../src/platform/eventstore/types";
import { unfinishedSagas } from "../src/platform/saga/sagaSweep";
import { postgresBackends, thisProcess, withCpu } from "./lib/cpuMeter";
import { cpuPerOp, emitCpu } from "./lib/cpuReport";
import { benchDatabase, type BenchDatabase } from "./lib/env";
import { benchMetadata, multiRowInsert, rawRow } from "./lib/inventoryEvents";
import { closedLoop } from "./lib/load";
import type { Scenario, ScenarioContext } from "./lib/scenario";
import { medianOf, repeat, summarize } from "./lib/stats";

/** The sweep's query before migration 8: the last open-or-end event of every saga stream the log holds. */
const SWEEP_FROM_LOG_SQL = `
SELECT stream_id, split_part(substr(stream_id, 6), '-', 1) AS saga FROM (
  SELECT DISTINCT ON (stream_id) stream_id, type FROM events
  WHERE stream_id >= 'saga.' AND stream_id < 'saga/'
  ORDER BY stream_id, stream_version DESC) AS last
WHERE type NOT IN ('SagaFinished', 'SagaFailed')
ORDER BY stream_id`;

/** A checkout-like instance as its runner appends it: the start with the first step, each reply with the next step, the last reply with the end. */
const INSTANCE: readonly (readonly string[])[] = [
  ["SagaStarted", "SagaStepStarted"],
  ["SagaStepSucceeded", "SagaStepStarted"],
  ["SagaStepSucceeded", "SagaFinished"],
];
const EVENTS_PER_INSTANCE = INSTANCE.flat().length;

const event = (type: string, id: string): NewEvent => ({ type, data: {}, metadata: benchMetadata(id) });

/**
 * The saga sweep (every few seconds in every saga runner) with a long
 * history: reading the open instances the appends keep (migration 8) against
 * the query it replaced, which read the last event of every saga stream ever
 * written. Also what keeping the table costs the write path: saga instances
 * appended as the runner appends them, against the same appends to streams
 * outside the saga range, which the trigger's WHEN clause skips.
 */
export const sagaSweepScenario: Scenario = {
  name: "saga-sweep",
  summary: "sweeps/s over a log of finished sagas; baseline: the log query it replaced. Saga appends/s; baseline: the same appends without the trigger",
  flags: {
    sagas: "finished saga instances in the log (default 100000; 20000 in the suite; 500 with --smoke)",
    open: "unfinished instances beside them (default 100; 10 with --smoke)",
    instances: "instances appended per measured run of the append case (default 2000; 100 with --smoke)",
    concurrency: "appenders in the append case (default 8; 4 with --smoke)",
  },
  async run(ctx) {
    const finished = ctx.args.int("sagas", { single: 100_000, suite: 20_000, smoke: 500 }, ctx.mode);
    const open = ctx.args.int("open", { single: 100, smoke: 10 }, ctx.mode);
    const instances = ctx.args.int("instances", { single: 2000, smoke: 100 }, ctx.mode);
    const concurrency = ctx.args.int("concurrency", { single: 8, smoke: 4 }, ctx.mode);
    const db = await benchDatabase(concurrency + 2);
    try {
      ctx.progress(`seeding ${finished} finished and ${open} open saga instances (${EVENTS_PER_INSTANCE} events each when finished)`);
      await seed(db, finished, open);
      await sweeps(ctx, db, { finished, open });
      await appends(ctx, db, { instances, concurrency });
    } finally {
      await db.release();
    }
  },
};

async function seed(db: BenchDatabase, finished: number, open: number): Promise<void> {
  const rows: unknown[][] = [];
  const flush = async () => {
    if (rows.length) await db.pool.query(multiRowInsert("events", rows.length), rows.splice(0).flat());
  };
  for (let n = 0; n < finished + open; n++) {
    const stream = `saga.checkout-${String(n).padStart(8, "0")}`;
    // Every finished instance whole; the open ones stopped after their first append.
    const types = n < finished ? INSTANCE.flat() : INSTANCE[0]!;
    types.forEach((type, i) => rows.push(rawRow(stream, i + 1, event(type, stream))));
    if (rows.length >= 1000) await flush();
  }
  await flush();
}

async function sweeps(ctx: ScenarioContext, db: BenchDatabase, sizes: { finished: number; open: number }): Promise<void> {
  const viaTable = async () => (await unfinishedSagas(db.pool)).length;
  const viaLog = async () => (await db.pool.query(SWEEP_FROM_LOG_SQL)).rowCount ?? 0;
  const [fromTable, fromLog] = [await viaTable(), await viaLog()];
  if (fromTable !== sizes.open || fromLog !== sizes.open) throw new Error(`expected ${sizes.open} open instances, the table has ${fromTable}, the log query found ${fromLog}`);
  const time = (sweep: () => Promise<number>) =>
    withCpu([thisProcess(), postgresBackends(db.url)], async () => {
      const latencies: number[] = [];
      for (const deadline = performance.now() + 2000; performance.now() < deadline || latencies.length < 3; ) {
        const started = performance.now();
        await sweep();
        latencies.push(performance.now() - started);
      }
      return latencies;
    });
  const m = medianOf(
    await repeat(ctx.runs, async (run) => {
      ctx.progress(`sweeps: run ${run + 1}/${ctx.runs}`);
      const table = await time(viaTable);
      const log = await time(viaLog);
      const t = summarize(table.value);
      const l = summarize(log.value);
      return {
        rate: table.value.length / (table.value.reduce((a, b) => a + b, 0) / 1000), p50: t.p50,
        baseRate: log.value.length / (log.value.reduce((a, b) => a + b, 0) / 1000), baseP50: l.p50,
        ...cpuPerOp(table.cpu, table.value.length, "cpu", "ms"), ...cpuPerOp(log.cpu, log.value.length, "baseCpu", "ms"),
      };
    }),
  );
  const label = `sweep, ${sizes.finished} finished + ${sizes.open} open`;
  const params = { ...sizes, runs: ctx.runs };
  ctx.emit({ label, value: m.rate, unit: "sweeps/s", baseline: m.baseRate, params });
  ctx.emit({ label: `${label}, p50`, value: m.p50, unit: "ms", baseline: m.baseP50, params: { ...params, stat: "p50" } });
  emitCpu(ctx, { label, op: "sweep", scale: "ms", figures: m, baselineKey: "baseCpu", params });
}

async function appends(ctx: ScenarioContext, db: BenchDatabase, sizes: { instances: number; concurrency: number }): Promise<void> {
  // Without the registry: the events are bare, and validation is not what is measured.
  const store = new EventStore(db.pool);
  let batch = 0;
  const run = (prefix: string) => {
    const tag = `${prefix}checkout-b${batch++}-`;
    return closedLoop({
      concurrency: sizes.concurrency,
      total: sizes.instances,
      op: async (i) => {
        const stream = `${tag}${i}`;
        let version = 0;
        for (const types of INSTANCE) {
          await store.append(stream, version === 0 ? "no_stream" : version, types.map((type) => event(type, stream)));
          version += types.length;
        }
      },
    });
  };
  const time = (prefix: string) => withCpu([thisProcess(), postgresBackends(db.url)], () => run(prefix));
  await run("saga.");
  await run("sagx."); // warm-up of both: connections, plans, buffers
  const m = medianOf(
    await repeat(ctx.runs, async (r) => {
      ctx.progress(`appends: run ${r + 1}/${ctx.runs}`);
      const [first, second] = r % 2 === 0 ? ["saga.", "sagx."] : ["sagx.", "saga."];
      const a = await time(first);
      const b = await time(second);
      const [saga, plain] = first === "saga." ? [a, b] : [b, a];
      return {
        rate: saga.value.ops / saga.value.seconds, baseRate: plain.value.ops / plain.value.seconds,
        ...cpuPerOp(saga.cpu, saga.value.ops, "cpu", "µs"), ...cpuPerOp(plain.cpu, plain.value.ops, "baseCpu", "µs"),
      };
    }),
  );
  const label = `saga instances appended (3 appends each), ${sizes.concurrency} appenders`;
  const params = { ...sizes, runs: ctx.runs };
  ctx.emit({ label, value: m.rate, unit: "instances/s", baseline: m.baseRate, params });
  emitCpu(ctx, { label, op: "instance", scale: "µs", figures: m, baselineKey: "baseCpu", params });
}
