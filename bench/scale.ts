import { Redis } from "ioredis";
import { CONFIG_VARIABLES } from "../src/config";
import { type RedisClient } from "../src/platform/core/redis";
import { scanKeys } from "../src/platform/core/redisScan";
import { compareLogPositions, type LogPosition, parseLogPosition } from "../src/platform/eventstore/logPosition";
import { migrate } from "../src/platform/eventstore/migrations";
import { createPool } from "../src/platform/eventstore/pool";
import { PgStandby } from "../test/support/pgStandby";
import { RedisCluster } from "../test/support/redisCluster";
import { type RunningSystem, startSystem } from "../test/support/system";
import { type CpuSource, postgresBackends, processes, redisServer, withCpu } from "./lib/cpuMeter";
import { startPrivateRedis } from "./lib/privateRedis";
import type { Scenario, ScenarioContext } from "./lib/scenario";
import { readerLag } from "./lib/standbyLag";
import { median } from "./lib/stats";

/**
 * Scale-out on existing engines (issue 12), as overhead on two cores:
 *  - projection: N orders events written at once, then the time until the
 *    `orders` read model (every segment of it) has applied them all, with
 *    K segments over R projector processes (K > 1 needs PROJECTION_SEGMENTS,
 *    the projector's support for segments; without it those cases are left
 *    out and said so);
 *  - the same projection, one projector, on a Redis Cluster (3+3) vs one Redis;
 *  - the log reader's lag on a hot standby vs on the primary itself.
 * CPU is summed over every process that does the work: projectors,
 * PostgreSQL backends, Redis servers.
 */
const PROJECTION = "orders";

export const scaleScenario: Scenario = {
  name: "scale",
  summary: "orders events/s with K segments over R projectors, cluster vs single Redis, standby reader lag; CPU per event over all processes",
  flags: {
    events: "orders events written per case (default 20000; 4000 in the suite)",
    segments: "segment counts K, comma-separated (default 1,2,4)",
    replicas: "projector processes R, comma-separated (default 1,2,4)",
    "lag-rate": "appends per second while the standby lag is measured (default 500)",
  },
  async run(ctx) {
    const events = ctx.args.int("events", { single: 20_000, suite: 4000, smoke: 500 }, ctx.mode);
    const segmentCounts = ctx.args.intList("segments", { single: [1, 2, 4], smoke: [1, 2] }, ctx.mode);
    const replicaCounts = ctx.args.intList("replicas", { single: [1, 2, 4], smoke: [1, 2] }, ctx.mode);
    const lagRate = ctx.args.int("lag-rate", { single: 500, smoke: 100 }, ctx.mode);
    const segmentsSupported = CONFIG_VARIABLES.includes("PROJECTION_SEGMENTS");
    const leases = CONFIG_VARIABLES.includes("LEASE_PERIOD_MS");
    ctx.progress(`projector supports: segments ${segmentsSupported ? "yes" : "no (K > 1 left out)"}, leases ${leases ? "yes" : "no"}`);

    // K segments over R replicas, on a Redis of the benchmark's own (its CPU counts).
    const grid = new Map<string, Measured>();
    for (const segments of segmentCounts.filter((k) => k === 1 || segmentsSupported)) {
      for (const replicas of replicaCounts) {
        const runs = await repeatCase(ctx, `K=${segments} R=${replicas}`, () => projectOnSingle(ctx, { events, segments, replicas }));
        grid.set(`${segments}/${replicas}`, runs);
      }
    }
    const base = grid.get("1/1");
    for (const [key, m] of grid) {
      const [segments, replicas] = key.split("/").map(Number);
      const params = { events, segments: segments!, replicas: replicas!, leases, runs: ctx.runs };
      ctx.emit({ label: `K=${segments} over R=${replicas} projectors: events/s`, value: m.eventsPerSecond, unit: "events/s", baseline: base?.eventsPerSecond ?? null, params });
      ctx.emit({ label: `K=${segments} over R=${replicas} projectors: batches thrown away`, value: m.thrownAway, unit: "batches", baseline: base?.thrownAway ?? null, params: { ...params, expected: leases ? 0 : null } });
      ctx.emit({ label: `K=${segments} over R=${replicas} projectors: CPU per event`, value: m.cpuMsPerEvent * 1000, unit: "µs CPU/event", baseline: base ? base.cpuMsPerEvent * 1000 : null, params: { ...params, parts: m.cpuParts } });
    }

    // The same projection, one projector, on a Redis Cluster vs one Redis.
    const single = grid.get("1/1") ?? (await repeatCase(ctx, "single Redis", () => projectOnSingle(ctx, { events, segments: 1, replicas: 1 })));
    const onCluster = await repeatCase(ctx, "Redis Cluster", () => projectOnCluster(ctx, { events }));
    ctx.emit({ label: "Redis Cluster (3+3) vs one Redis, 1 projector: events/s", value: onCluster.eventsPerSecond, unit: "events/s", baseline: single.eventsPerSecond, params: { events, runs: ctx.runs } });
    ctx.emit({ label: "Redis Cluster (3+3) vs one Redis, 1 projector: CPU per event", value: onCluster.cpuMsPerEvent * 1000, unit: "µs CPU/event", baseline: single.cpuMsPerEvent * 1000, params: { events, parts: onCluster.cpuParts } });

    // The log reader on a hot standby vs on the primary.
    ctx.progress("starting a PostgreSQL primary and hot standby");
    const standby = await PgStandby.start();
    try {
      const { primaryUrl, standbyUrl } = await standby.createDatabase("bench_scale");
      const primary = createPool(primaryUrl, { max: 8 });
      // The reader has a pool of its own in both cases, so it never waits behind the writer's appends.
      const primaryReader = createPool(primaryUrl, { max: 2 });
      const reader = createPool(standbyUrl, { max: 2 });
      try {
        await migrate(primary);
        await standby.waitForReplay();
        const durationMs = ctx.mode === "smoke" ? 1000 : 5000;
        ctx.progress("warming up (connections, plans)");
        await readerLag(primary, primaryReader, { rate: lagRate, durationMs: 500 });
        await readerLag(primary, reader, { rate: lagRate, durationMs: 500 });
        ctx.progress(`reader lag at ${lagRate} appends/s: on the primary (baseline)`);
        const onPrimary = await readerLag(primary, primaryReader, { rate: lagRate, durationMs });
        ctx.progress(`reader lag at ${lagRate} appends/s: on the standby`);
        const onStandby = await readerLag(primary, reader, { rate: lagRate, durationMs });
        for (const stat of ["p50", "p99", "max"] as const) {
          ctx.emit({ label: `log reader on the standby vs the primary, ${stat}`, value: onStandby[stat], unit: "ms", baseline: onPrimary[stat], params: { rate: lagRate, events: onStandby.events, stat } });
        }
      } finally {
        await Promise.all([primary.end(), primaryReader.end(), reader.end()]);
      }
    } finally {
      await standby.stop();
    }
  },
};

interface Measured {
  eventsPerSecond: number;
  cpuMsPerEvent: number;
  cpuParts: string;
  /** Batches the projectors read and threw away because another one committed first, summed over them. */
  thrownAway: number;
}

async function repeatCase(ctx: ScenarioContext, what: string, measure: () => Promise<Measured>): Promise<Measured> {
  const runs: Measured[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    ctx.progress(`${what}: run ${run + 1}/${ctx.runs}`);
    runs.push(await measure());
  }
  const rate = median(runs.map((r) => r.eventsPerSecond));
  const typical = runs.find((r) => r.eventsPerSecond === rate) ?? runs[0]!;
  return { eventsPerSecond: rate, cpuMsPerEvent: median(runs.map((r) => r.cpuMsPerEvent)), cpuParts: typical.cpuParts, thrownAway: Math.max(...runs.map((r) => r.thrownAway)) };
}

async function projectOnSingle(ctx: ScenarioContext, c: { events: number; segments: number; replicas: number }): Promise<Measured> {
  const redis = await startPrivateRedis();
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  try {
    const system = await startProjectors(c, { REDIS_URL: redis.url }, null);
    return await measureProjection(ctx, system, c, [await redisServer(connection)]);
  } finally {
    connection.disconnect();
    await redis.stop();
  }
}

async function projectOnCluster(ctx: ScenarioContext, c: { events: number }): Promise<Measured> {
  const cluster = await RedisCluster.start();
  const nodes = cluster.startupNodes.map((n) => new Redis(n.port, n.host));
  try {
    const system = await startProjectors({ ...c, segments: 1, replicas: 1 }, {}, cluster);
    const sources = await Promise.all(nodes.map((n, i) => redisServer(n, `redis node ${i + 1}`)));
    return await measureProjection(ctx, system, { ...c, segments: 1 }, sources);
  } finally {
    nodes.forEach((n) => n.disconnect());
    await cluster.stop();
  }
}

async function startProjectors(c: { segments: number; replicas: number }, env: Record<string, string>, cluster: RedisCluster | null): Promise<RunningSystem<RedisClient>> {
  // METRICS_PORT 0: each projector serves /metrics on a port of its own, read for the batches thrown away.
  const full = { ...env, PG_POOL_SIZE: "4", PROJECTOR_CATCH_UP_MS: "50", METRICS_PORT: "0", ...(c.segments > 1 ? { PROJECTION_SEGMENTS: `${PROJECTION}=${c.segments}` } : {}) };
  const names = Array.from({ length: c.replicas }, (_, i) => (i === 0 ? "projector" : `projector#${i + 1}`));
  // Migrations run in the first; the others start once it has.
  const system = cluster ? await startSystem(["projector"], full, { redisCluster: cluster }) : await startSystem(["projector"], full);
  try {
    for (const name of names.slice(1)) await system.start(name);
  } catch (error) {
    await system.shutdown();
    throw error;
  }
  return system;
}

/**
 * Writes the orders events in one transaction, then times how long until
 * every checkpoint of the projection (one per segment) has passed them.
 */
async function measureProjection(ctx: ScenarioContext, system: RunningSystem<RedisClient>, c: { events: number; segments: number }, redisSources: CpuSource[]): Promise<Measured> {
  try {
    const pids = () => system.replicas("projector").map((name) => system.role(name).child.pid);
    const sources = [processes("projectors", pids), postgresBackends(system.db.url), ...redisSources];
    const { value: elapsedMs, cpu } = await withCpu(sources, async () => {
      const started = performance.now();
      await writeOrders(system, c.events);
      const head = await logHead(system);
      for (const deadline = Date.now() + 600_000; ; await new Promise((r) => setTimeout(r, 20))) {
        const checkpoints = await projectionCheckpoints(system);
        if (checkpoints.length >= c.segments && checkpoints.every((p) => compareLogPositions(p, head) >= 0)) break;
        if (Date.now() > deadline) throw new Error(`${PROJECTION} did not catch up within 600 s (${checkpoints.length} checkpoints)`);
      }
      return performance.now() - started;
    });
    const parts = Object.entries(cpu.parts).map(([name, ms]) => `${name} ${Math.round(ms)} ms`).join(", ");
    const thrownAway = await batchesThrownAway(system);
    ctx.progress(`${c.events} events in ${(elapsedMs / 1000).toFixed(2)} s; CPU ${Math.round(cpu.total)} ms (${parts}); ${thrownAway} batches thrown away`);
    return { eventsPerSecond: (c.events * 1000) / elapsedMs, cpuMsPerEvent: cpu.total / c.events, cpuParts: parts, thrownAway };
  } finally {
    await system.shutdown();
  }
}

/** eventline_projector_batches_thrown_away from every projector's /metrics, summed. */
async function batchesThrownAway(system: RunningSystem<RedisClient>): Promise<number> {
  let total = 0;
  for (const name of system.replicas("projector")) {
    const [, url] = await system.role(name).waitFor(/telemetry at (\S+)\/metrics/);
    const text = await (await fetch(`${url}/metrics`)).text();
    const sample = /^eventline_projector_batches_thrown_away (\d+)$/m.exec(text);
    if (!sample) throw new Error(`${name} reports no eventline_projector_batches_thrown_away`);
    total += Number(sample[1]);
  }
  return total;
}

/** N/2 orders, each placed then confirmed: N events the orders projection applies, in one transaction. */
async function writeOrders(system: RunningSystem<RedisClient>, events: number): Promise<void> {
  await system.db.pool.query(
    `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
     SELECT gen_random_uuid(), 'ordering.order-bench-' || (g / 2), g % 2 + 1, CASE WHEN g % 2 = 0 THEN 'OrderPlaced' ELSE 'OrderConfirmed' END, 1,
            CASE WHEN g % 2 = 0
              THEN jsonb_build_object('orderId', 'bench-' || (g / 2), 'customerId', 'c-' || (g % 97), 'totalMinor', 1250, 'currency', 'EUR',
                     'lines', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (g % 13), 'quantity', 1, 'unitPriceMinor', 1250, 'lineTotalMinor', 1250)))
              ELSE jsonb_build_object('orderId', 'bench-' || (g / 2), 'customerId', 'c-' || ((g - 1) % 97)) END,
            jsonb_build_object('correlationId', 'bench-' || (g / 2), 'causationId', 'bench-' || g, 'commandId', 'bench-' || g, 'actor', 'bench', 'recordedAt', now()::text)
     FROM generate_series(0, $1::int - 1) AS g ORDER BY g`,
    [events],
  );
}

async function logHead(system: RunningSystem<RedisClient>): Promise<LogPosition> {
  const { rows } = await system.db.pool.query<{ position: string }>(
    "SELECT transaction_id::text || '.' || global_position::text AS position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
  );
  return parseLogPosition(rows[0]!.position)!;
}

/** The checkpoint of every segment of the projection (its tag is `{orders}`, or `{orders#s}` per segment). */
async function projectionCheckpoints(system: RunningSystem<RedisClient>): Promise<LogPosition[]> {
  const keys: string[] = [];
  for (const pattern of [`${system.prefix}:{${PROJECTION}}:*:checkpoint`, `${system.prefix}:{${PROJECTION}#*}:*:checkpoint`]) {
    await scanKeys(system.redis, pattern, async (found) => void keys.push(...found));
  }
  const values = await Promise.all(keys.map((key) => system.redis.get(key)));
  return values.flatMap((v) => {
    const position = v === null ? null : parseLogPosition(v);
    return position ? [position] : [];
  });
}
