import { Admission } from "../bus/admission";
import { CommandInbox } from "../bus/commandInbox";
import type { CommandExecutor } from "../bus/commandBus";
import { CommandWorker } from "../bus/commandWorker";
import { type ConnectionOptions, createRedis, type RedisClient } from "../core/redis";
import { redisTarget } from "./redisTarget";
import { FailoverCommandBus } from "../bus/failoverCommandBus";
import { InboxCommandBus } from "../bus/inboxCommandBus";
import { InboxWorker } from "../bus/inboxWorker";
import { QueueCommandBus } from "../bus/queueCommandBus";
import { errorMessage } from "../core/errors";
import type { EventRegistry } from "../eventstore/eventRegistry";
import { EventStore } from "../eventstore/eventStore";
import { migrate } from "../eventstore/migrations";
import { PgListener } from "../bus/pgListener";
import { createPool } from "../eventstore/pool";
import { PostgresHealth } from "../bus/postgresHealth";
import { appendTelemetry } from "../bus/commandTelemetry";
import type { Logger } from "../observability/logger";
import { Metrics } from "../observability/metrics";
import { RoleTelemetry } from "./roleTelemetry";
import { ReadModelKeys } from "../projection/keys";
import { ProjectorWakeups } from "../projection/wakeups";
import { ReactorWakeups } from "../processing/redisWakeups";
import type { WakeTarget } from "../processing/wakeups";
import type { AppConfig, RoleContext } from "./rolePart";

export interface InfrastructureOptions {
  config: AppConfig;
  log: Logger;
  role: string;
  graphiqlQuery: string;
  registry: EventRegistry;
  /** The projections the projector runs: an append wakes those that read its event types. */
  projections: readonly WakeTarget[];
  /** The log processors of other processes an append wakes (the saga starter), by the event types they read. */
  reactors: readonly WakeTarget[];
  onStop(name: string, run: () => Promise<unknown>): void;
}

/**
 * What every role of a process shares: PostgreSQL (migrated), Redis, the
 * command bus and its lanes, telemetry. Everything opened here is
 * registered with `onStop`.
 */
export async function openInfrastructure(options: InfrastructureOptions): Promise<RoleContext> {
  const { config, log, onStop } = options;
  const metrics = new Metrics();
  const pool = createPool(config.DATABASE_URL, { max: config.PG_POOL_SIZE }, (e) => log.warn(`postgres: ${e.message}`));
  onStop("postgres pool", () => pool.end());
  const applied = await migrate(pool);
  if (applied.length) log.info(`migrations applied: ${applied.join(", ")}`);
  // Log readers may follow a hot standby; appends and stream reads stay on the primary.
  const reader = config.DATABASE_READ_URL
    ? createPool(config.DATABASE_READ_URL, { max: config.PG_POOL_SIZE }, (e) => log.warn(`postgres reader: ${e.message}`))
    : undefined;
  if (reader) onStop("postgres read pool", () => reader.end());
  const store = new EventStore(pool, {
    registry: options.registry,
    observer: appendTelemetry(metrics, log.child({ component: "eventstore" })),
    ...(reader ? { reader } : {}),
  });
  const keys = new ReadModelKeys(config.EVENTLINE_PREFIX);
  const target = redisTarget(config) ?? config.REDIS_URL;
  const redis = (opts: ConnectionOptions = {}): RedisClient => {
    const connection = createRedis(target, opts);
    connection.on("error", () => undefined); // reconnects by itself; callers see UNAVAILABLE meanwhile
    onStop("redis connection", () => connection.quit().catch(() => connection.disconnect()));
    return connection;
  };
  const health = new PostgresHealth(config.DATABASE_URL, { probeEveryMs: config.PG_HEALTH_PROBE_MS, timeoutMs: config.PG_HEALTH_TIMEOUT_MS }, log);
  health.start();
  onStop("postgres health", () => health.stop());
  const listener = new PgListener(config.DATABASE_URL, log);
  onStop("postgres notifications", () => listener.stop());
  const inbox = new CommandInbox(pool);
  const shared = redis();
  // Probes must fail fast during an outage instead of waiting for Redis to come back.
  const telemetry = new RoleTelemetry({
    metrics,
    db: pool,
    probe: redis({ maxRetriesPerRequest: 1, connectTimeout: 2000 }),
    keys,
    maxLagSeconds: config.READY_MAX_LAG_SECONDS,
  });
  onStop("telemetry", () => telemetry.close());
  if (store.readsFromStandby) telemetry.watchReplicationLag(() => store.replicationLagSeconds());
  const queueBus = new QueueCommandBus(shared, target, keys.prefix, {
    timeoutMs: config.COMMAND_TIMEOUT_MS,
    attempts: 5,
    enqueueTimeoutMs: config.COMMAND_ENQUEUE_TIMEOUT_MS,
    keepCompleted: config.COMMAND_KEEP_COMPLETED,
    keepFailed: config.COMMAND_KEEP_FAILED,
    maxCommandBytes: config.COMMAND_MAX_BYTES,
    waitReplicas: config.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
    replyPollMs: config.COMMAND_REPLY_POLL_MS,
    admission: new Admission({
      maxQueued: config.COMMAND_MAX_QUEUED,
      countEveryMs: config.COMMAND_QUEUE_COUNT_MS,
      retryAfterMs: config.OVERLOAD_RETRY_AFTER_MS,
    }),
  });
  onStop("command bus", () => queueBus.close());
  const inboxBus = new InboxCommandBus(inbox, listener, { timeoutMs: config.COMMAND_TIMEOUT_MS, pollMs: 500 }, health);
  onStop("command inbox", async () => inboxBus.close());
  const bus = new FailoverCommandBus(queueBus, inboxBus, health, config.COMMAND_TIMEOUT_MS, log);
  const takeCommands = async (service: string, execute: CommandExecutor, serviceLog: Logger) => {
    const worker = new CommandWorker(service, execute, redis(), keys.prefix, serviceLog, {
      health,
      reclaimWithinMs: config.RECLAIM_WITHIN_MS,
      concurrency: config.COMMAND_CONCURRENCY,
    });
    onStop(`${service} commands`, () => worker.close());
    const inboxWorker = new InboxWorker(service, execute, inbox, listener, serviceLog, health, {
      // A lease plus a poll: a dead predecessor's inbox commands are taken again within RECLAIM_WITHIN_MS.
      leaseMs: Math.floor(config.RECLAIM_WITHIN_MS / 2),
      pollMs: Math.min(1000, Math.floor(config.RECLAIM_WITHIN_MS / 2)),
    });
    onStop(`${service} command inbox`, () => inboxWorker.stop());
    return worker;
  };
  const wakeups = new ProjectorWakeups(shared, keys.prefix, options.projections, (e) =>
    log.warn(`wake-up not sent (catch-up will cover it): ${errorMessage(e)}`),
  );
  onStop("wake-ups", () => wakeups.close());
  const reactorWakeups = new ReactorWakeups(shared, keys.prefix, options.reactors, (e) =>
    log.warn(`wake-up not sent (the processor's poll will cover it): ${errorMessage(e)}`),
  );
  const handlerOptions = {
    maxAttempts: config.COMMAND_MAX_ATTEMPTS,
    onAppended: (eventTypes: readonly string[]) => {
      wakeups.wake(eventTypes);
      reactorWakeups.wake(eventTypes);
    },
    snapshotEvery: config.SNAPSHOT_EVERY,
    cacheStreams: config.COMMAND_CACHE_STREAMS,
    onSnapshotError: (stream: string, e: unknown) => log.warn(`snapshot of ${stream} not taken (loads fold from the log instead): ${errorMessage(e)}`),
  };
  return { config, log, role: options.role, graphiqlQuery: options.graphiqlQuery, pool, store, keys, metrics, telemetry, bus, handlerOptions, redis, onStop, takeCommands };
}
