import { Queue } from "bullmq";
import { bullPrefix, type RedisClient } from "../core/redis";
import type { Queryable } from "../eventstore/eventStore";
import { parseGeneration, type ReadModelKeys } from "../projection/keys";
import { SAGAS } from "../saga/sagaProjection";
import type { SagaStatus } from "../saga/types";
import type { ReadinessCheck } from "../observability/health";
import { type Lag, projectionLag, subscriptionLag } from "../projection/lag";
import type { Metrics } from "../observability/metrics";
import { queuesPrometheusText } from "../observability/queueMetrics";

/** Every status, checked complete by the compiler. */
const SAGA_STATUSES = Object.keys({ RUNNING: 1, COMPENSATING: 1, COMPLETED: 1, COMPENSATED: 1, FAILED: 1 } satisfies Record<SagaStatus, 1>);

export interface RoleTelemetryDeps {
  metrics: Metrics;
  db: Queryable;
  /** A connection that fails fast when Redis is down (no endless offline queue), for probes only. */
  probe: RedisClient;
  keys: ReadModelKeys;
  /** Bound on the lag of the log readers this process runs, for /ready. */
  maxLagSeconds: number;
}

/**
 * What one process reports and checks, assembled from what its roles run:
 * each `watch*` adds the metric families and readiness checks of one concern.
 */
export class RoleTelemetry {
  readonly checks: ReadinessCheck[] = [];
  readonly queues: Queue[] = [];
  private readonly projections = new Set<string>();
  private readonly subscriptions = new Set<string>();

  constructor(private readonly deps: RoleTelemetryDeps) {
    const { metrics, db, probe } = deps;
    this.checks.push(
      { name: "postgres", check: async () => (await db.query("SELECT 1"), null) },
      { name: "redis", check: async () => ((await probe.ping()) === "PONG" ? null : "unexpected PING reply") },
    );
    metrics.addText(() => queuesPrometheusText(this.queues));
    const lags = memo(() => this.lags(), 500);
    const lagGauge = (unit: "events" | "seconds", kind: "projection" | "subscription", help: string) =>
      metrics.gauge(`eventline_${kind}_lag_${unit}`, help, [kind], async () =>
        (await lags()).filter((l) => l.kind === kind).map((l) => ({ labels: { [kind]: l.name } as Record<typeof kind, string>, value: l.lag[unit] })),
      );
    lagGauge("events", "projection", "Events in the PostgreSQL log after the projection's checkpoint in Redis (counted up to 100000)");
    lagGauge("seconds", "projection", "Age of the oldest event the projection has not applied yet (0 when caught up)");
    lagGauge("events", "subscription", "Events in the log after a log subscription's checkpoint (saga starter, reactors)");
    lagGauge("seconds", "subscription", "Age of the oldest event a log subscription has not handled yet");
  }

  /** Queues this process reports depths of (BullMQ's exporter), shows on the board and checks for /ready. */
  watchQueues(names: readonly string[]): void {
    for (const name of names) {
      if (this.queues.some((q) => q.name === name)) continue;
      const queue = new Queue(name, { connection: this.deps.probe, prefix: bullPrefix(this.deps.keys.prefix, name) });
      queue.on("error", () => undefined); // an outage shows in /ready; the connection reconnects by itself
      this.queues.push(queue);
    }
    if (!this.checks.some((c) => c.name === "queues")) {
      this.checks.push({
        name: "queues",
        check: async () => {
          await Promise.all(this.queues.map((q) => q.getJobCounts("waiting")));
          return null;
        },
      });
    }
  }

  /** Projections whose lag this process reports and bounds: their checkpoint in Redis against the log head. */
  watchProjections(names: readonly string[]): void {
    names.forEach((n) => this.projections.add(n));
    this.addLagCheck();
  }

  /** Log subscriptions (checkpoints in PostgreSQL) this process runs. */
  watchSubscriptions(names: readonly string[]): void {
    names.forEach((n) => this.subscriptions.add(n));
    this.addLagCheck();
  }

  /** The lag of this process's log readers behind the primary, when they read a hot standby (DATABASE_READ_URL). */
  watchReplicationLag(lagSeconds: () => Promise<number>): void {
    this.deps.metrics.gauge(
      "eventline_log_reader_replication_lag_seconds",
      "Seconds the hot standby this process reads the log from (DATABASE_READ_URL) is behind the primary; 0 once it has replayed all flushed WAL",
      [],
      async () => [{ labels: {}, value: await lagSeconds() }],
    );
  }

  /** Saga instances by status, counted from the sagas read model's status indexes. */
  watchSagas(): void {
    const { probe, keys } = this.deps;
    this.deps.metrics.gauge("eventline_sagas", "Saga instances by status, from the sagas read model", ["status"], async () => {
      const gen = keys.generation(SAGAS, parseGeneration(await probe.get(keys.activeGeneration(SAGAS))));
      const counts = await Promise.all(SAGA_STATUSES.map((s) => probe.zcard(gen.index(`status:${s}`))));
      return SAGA_STATUSES.map((status, i) => ({ labels: { status }, value: counts[i]! }));
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
  }

  private addLagCheck(): void {
    if (this.checks.some((c) => c.name === "lag")) return;
    this.checks.push({
      name: "lag",
      check: async () => {
        const behind = (await this.lags()).filter((l) => l.lag.seconds > this.deps.maxLagSeconds);
        if (!behind.length) return null;
        return behind
          .map((l) => `${l.kind} ${l.name} is ${l.lag.seconds.toFixed(1)} s behind the log (${l.lag.events} events)`)
          .join("; ") + `; the bound is READY_MAX_LAG_SECONDS=${this.deps.maxLagSeconds}`;
      },
    });
  }

  private async lags(): Promise<Array<{ kind: "projection" | "subscription"; name: string; lag: Lag }>> {
    const { db, probe, keys } = this.deps;
    return Promise.all([
      ...[...this.projections].map(async (name) => ({ kind: "projection" as const, name, lag: await projectionLag(db, probe, keys, name) })),
      ...[...this.subscriptions].map(async (name) => ({ kind: "subscription" as const, name, lag: await subscriptionLag(db, name) })),
    ]);
  }
}

/** Shares one result among the gauges of a scrape. */
function memo<T>(compute: () => Promise<T>, ms: number): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | null = null;
  return () => {
    if (!cached || Date.now() - cached.at > ms) {
      const value = compute();
      cached = { at: Date.now(), value };
      value.catch(() => (cached = null));
    }
    return cached.value;
  };
}
