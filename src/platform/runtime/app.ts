import type { Redis } from "ioredis";
import type { Config } from "../../config";
import { CommandInbox } from "../bus/commandInbox";
import type { CommandExecutor } from "../bus/commandBus";
import { CommandWorker } from "../bus/commandWorker";
import { createRedis } from "../bus/connections";
import { Admission } from "../bus/admission";
import { FailoverCommandBus } from "../bus/failoverCommandBus";
import { InboxCommandBus } from "../bus/inboxCommandBus";
import { InboxWorker } from "../bus/inboxWorker";
import { QueueCommandBus } from "../bus/queueCommandBus";
import { eventRegistryOf } from "../eventCatalog";
import { reactorSubscriptionName, startReactor } from "../bus/reactorRunner";
import { errorMessage } from "../errors";
import { EventStore } from "../eventstore/eventStore";
import { migrate } from "../eventstore/migrations";
import { PgListener } from "../eventstore/pgListener";
import { createPool } from "../eventstore/pool";
import { PostgresHealth } from "../eventstore/postgresHealth";
import type { RunningServer } from "../graphql/server";
import { historyProjection } from "../history/historyProjection";
import { historyEventNode, HistoryQueries } from "../history/resolvers";
import { nodeResolvers } from "../graphql/node";
import { appendTelemetry, observeExecutor } from "../observability/commandTelemetry";
import { startTelemetryServer } from "../observability/health";
import type { Logger } from "../observability/logger";
import { Metrics } from "../observability/metrics";
import { RoleTelemetry } from "../observability/roleTelemetry";
import { ReadModelKeys } from "../projection/keys";
import type { DocumentProjection } from "../projection/types";
import { Projector } from "../projection/projector";
import { PROJECTOR_QUEUE, ProjectorWakeups } from "../projection/wakeups";
import { ProjectionResolvers, projectionStatusNode } from "../projection/resolvers";
import { sagaProjection } from "../saga/sagaProjection";
import { SagaResolvers, sagaNode } from "../saga/resolvers";
import { SAGA_QUEUE, SAGA_STARTER, SagaRunner } from "../saga/sagaRunner";
import { createSagaExecutor, SAGA_SERVICE } from "../saga/sagaService";
import { commandQueueName } from "../bus/queueCommandBus";
import type { ServiceDefinition } from "../service";
import { startApi } from "./apiRole";

/** Roles every deployment has; each registered service adds a role of its own name. */
export const PLATFORM_ROLES = ["api", "projector", "saga", "all"] as const;

export interface AppOptions {
  config: Config & { DATABASE_URL: string; REDIS_URL: string };
  services: readonly ServiceDefinition[];
  roles: readonly string[];
  /** The process's logger; each component logs through a child of it. */
  log: Logger;
  graphiqlQuery?: string;
}

export interface RunningApp {
  api: RunningServer | null;
  /** Where /health, /ready and /metrics are served: METRICS_PORT, else the api's port, or nowhere. */
  telemetryUrl: string | null;
  store: EventStore;
  stop(): Promise<void>;
}

/** Every resolver the API serves: the services', the history's and, when any service has sagas, the saga operations. */
export function allResolvers(services: readonly ServiceDefinition[]) {
  const hasSagas = services.some((s) => s.sagas?.length);
  const nodes = [...services.flatMap((s) => s.nodes ?? []), historyEventNode, ...(hasSagas ? [sagaNode] : []), projectionStatusNode];
  return [
    ...services.flatMap((s) => s.resolvers),
    HistoryQueries,
    ...(hasSagas ? [SagaResolvers] : []),
    ProjectionResolvers,
    ...nodeResolvers(nodes),
  ];
}

/** Every read model the projector maintains: the services', the sagas' when there are any, and the history of all of them. */
export function allProjections(services: readonly ServiceDefinition[]): DocumentProjection<unknown>[] {
  const hasSagas = services.some((s) => s.sagas?.length);
  const projections = [...services.flatMap((s) => s.projections), ...(hasSagas ? [sagaProjection as DocumentProjection<unknown>] : [])];
  return [...projections, historyProjection(projections) as DocumentProjection<unknown>];
}

export function roleNames(services: readonly ServiceDefinition[]): string[] {
  return [...PLATFORM_ROLES, ...services.map((s) => s.name)];
}

/**
 * The composition root: connects to PostgreSQL and Redis, applies migrations
 * and starts the requested roles. Every role can run alone in its own process
 * or together with the others in one; they only talk through PostgreSQL,
 * Redis and BullMQ queues.
 */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const { config, services, log } = options;
  const wanted = new Set(options.roles.includes("all") ? roleNames(services) : options.roles);
  const stops: Array<{ name: string; run: () => Promise<unknown> }> = [];
  const onStop = (name: string, run: () => Promise<unknown>) => stops.push({ name, run });
  const stop = async () => {
    for (const { name, run } of stops.splice(0).reverse()) {
      await run().catch((e: unknown) => log.warn({ component: name }, `shutdown of ${name}: ${errorMessage(e)}`));
    }
  };

  try {
    const metrics = new Metrics();
    const pool = createPool(config.DATABASE_URL, { max: config.PG_POOL_SIZE }, (e) => log.warn(`postgres: ${e.message}`));
    onStop("postgres pool", () => pool.end());
    const applied = await migrate(pool);
    if (applied.length) log.info(`migrations applied: ${applied.join(", ")}`);
    const store = new EventStore(pool, {
      registry: eventRegistryOf(services),
      observer: appendTelemetry(metrics, log.child({ component: "eventstore" })),
    });
    const keys = new ReadModelKeys(config.EVENTLINE_PREFIX);
    const sagas = services.flatMap((s) => s.sagas ?? []);
    const projections = allProjections(services);
    const redis = (opts: object = {}): Redis => {
      const connection = createRedis(config.REDIS_URL, opts);
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
    const queueBus = new QueueCommandBus(shared, config.REDIS_URL, keys.prefix, {
      timeoutMs: config.COMMAND_TIMEOUT_MS,
      attempts: 5,
      enqueueTimeoutMs: config.COMMAND_ENQUEUE_TIMEOUT_MS,
      keepCompleted: config.COMMAND_KEEP_COMPLETED,
      keepFailed: config.COMMAND_KEEP_FAILED,
      maxCommandBytes: config.COMMAND_MAX_BYTES,
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
    /** A service takes its commands from both lanes: its BullMQ queue and, for when Redis is down, its inbox. */
    const takeCommands = async (service: string, execute: CommandExecutor, serviceLog: Logger) => {
      const worker = new CommandWorker(service, execute, redis(), keys.prefix, serviceLog, { health, reclaimWithinMs: config.RECLAIM_WITHIN_MS });
      onStop(`${service} commands`, () => worker.close());
      const inboxWorker = new InboxWorker(service, execute, inbox, listener, serviceLog, health, {
        // A lease plus a poll: a dead predecessor's inbox commands are taken again within RECLAIM_WITHIN_MS.
        leaseMs: Math.floor(config.RECLAIM_WITHIN_MS / 2),
        pollMs: Math.min(1000, Math.floor(config.RECLAIM_WITHIN_MS / 2)),
      });
      onStop(`${service} command inbox`, () => inboxWorker.stop());
      return worker;
    };
    const wakeups = new ProjectorWakeups(shared, keys.prefix, projections.map((p) => p.name), (e) =>
      log.warn(`wake-up not sent (catch-up will cover it): ${errorMessage(e)}`),
    );
    onStop("wake-ups", () => wakeups.close());
    const handlerOptions = {
      maxAttempts: config.COMMAND_MAX_ATTEMPTS,
      onAppended: () => wakeups.wake(),
      snapshotEvery: config.SNAPSHOT_EVERY,
      cacheStreams: config.COMMAND_CACHE_STREAMS,
      onSnapshotError: (stream: string, e: unknown) => log.warn(`snapshot of ${stream} not taken (loads fold from the log instead): ${errorMessage(e)}`),
    };

    if (wanted.has("projector")) {
      const projector = new Projector({ store, redisUrl: config.REDIS_URL, keys, projections, log: log.child({ component: "projector" }) }, {
        batchSize: config.PROJECTOR_BATCH_SIZE,
        catchUpEveryMs: config.PROJECTOR_CATCH_UP_MS,
        maxEventAttempts: config.PROJECTOR_MAX_EVENT_ATTEMPTS,
        changeLogLength: config.SUBSCRIPTION_REPLAY_BATCHES,
        reclaimWithinMs: config.RECLAIM_WITHIN_MS,
      });
      await projector.start();
      onStop("projector", () => projector.stop());
      telemetry.watchQueues([PROJECTOR_QUEUE]);
      telemetry.watchProjections(projections.map((p) => p.name));
      log.info(`projector: ${projections.map((p) => p.name).join(", ")}`);
    }

    for (const service of services.filter((s) => wanted.has(s.name))) {
      const serviceLog = log.child({ component: service.name });
      const execute = observeExecutor(service.name, service.createExecutor({ store, handlerOptions }), metrics, serviceLog);
      await (await takeCommands(service.name, execute, serviceLog)).waitUntilReady();
      for (const reactor of service.reactors ?? []) {
        const subscription = startReactor(service.name, reactor, execute, pool, store, serviceLog);
        onStop(`${service.name} reactor ${reactor.name}`, () => subscription.stop());
      }
      telemetry.watchQueues([commandQueueName(service.name)]);
      telemetry.watchSubscriptions((service.reactors ?? []).map((r) => reactorSubscriptionName(service.name, r.name)));
      log.info(`${service.name}: taking commands${service.reactors?.length ? ", reacting to events" : ""}`);
    }

    if (wanted.has("saga") && sagas.length) {
      const runner = new SagaRunner(
        { db: pool, store, bus, connection: redis(), prefix: keys.prefix, definitions: sagas, log: log.child({ component: "saga" }) },
        { ...(config.SAGA_DEADLINE_MS ? { deadlineMs: config.SAGA_DEADLINE_MS } : {}), stepTimeoutMs: config.SAGA_STEP_TIMEOUT_MS, attempts: config.SAGA_ATTEMPTS, giveUpMs: config.SAGA_GIVE_UP_MS, reclaimWithinMs: config.RECLAIM_WITHIN_MS },
      );
      await runner.start();
      onStop("saga runner", () => runner.stop());
      const sagaLog = log.child({ component: SAGA_SERVICE });
      const execute = observeExecutor(SAGA_SERVICE, createSagaExecutor(store, handlerOptions, (stream, saga) => runner.wake(stream, saga)), metrics, sagaLog);
      await takeCommands(SAGA_SERVICE, execute, sagaLog);
      telemetry.watchQueues([SAGA_QUEUE, commandQueueName(SAGA_SERVICE)]);
      telemetry.watchSubscriptions([SAGA_STARTER]);
      telemetry.watchSagas();
      log.info(`saga: running ${sagas.map((s) => s.name).join(", ")}`);
    }

    let api: RunningServer | null = null;
    let telemetryUrl: string | null = null;
    const role = options.roles.join("+");
    if (wanted.has("api")) {
      const pages = services.flatMap((s) => s.pages ?? []);
      // The api sends to every queue and serves every read model: it reports them all, and its board shows them.
      telemetry.watchQueues([...services.map((s) => commandQueueName(s.name)), ...(sagas.length ? [commandQueueName(SAGA_SERVICE), SAGA_QUEUE] : []), PROJECTOR_QUEUE]);
      telemetry.watchProjections(projections.map((p) => p.name));
      api = await startApi({
        config,
        bus,
        keys,
        resolvers: allResolvers(services),
        redis,
        log: log.child({ component: "api" }),
        graphiqlQuery: options.graphiqlQuery ?? "",
        telemetry: { role, metrics, checks: telemetry.checks, queues: telemetry.queues },
        pages,
        projections: projections.map((p) => p.name),
      });
      onStop("api", () => api!.close());
      telemetryUrl = api.url.replace(/\/graphql$/, "");
      // The URL is followed by a space: tests and scripts read it with /GraphiQL at (\S+)/ (or /GraphQL at/ when GraphiQL is off).
      if (config.GRAPHIQL_ENABLED) log.info({ url: api.url }, `api: GraphiQL at ${api.url} (GraphQL over HTTP and WebSocket)`);
      else log.info({ url: api.url }, `api: GraphQL at ${api.url} (HTTP and WebSocket; GraphiQL is off, GRAPHIQL_ENABLED=true serves it)`);
      for (const page of pages) log.info(`api: ${page.title} at ${new URL(page.path, api.url).href}`);
      // With access control on, metrics anyone can read would be the one open door.
      if (config.METRICS_PORT === undefined && !config.METRICS_TOKEN && config.AUTH_MODE === "jwt") {
        log.warn("api: /metrics is open to anyone who can reach the api's port: set METRICS_PORT (and METRICS_HOST) to serve it apart, or METRICS_TOKEN");
      }
    }
    if (config.METRICS_PORT !== undefined) {
      const server = await startTelemetryServer({ role, metrics, checks: telemetry.checks }, config.METRICS_HOST ?? config.HOST, config.METRICS_PORT, config.METRICS_TOKEN);
      onStop("telemetry server", () => server.close());
      telemetryUrl = server.url;
    }
    if (telemetryUrl) log.info({ url: telemetryUrl }, `telemetry at ${telemetryUrl}/metrics (also /health, /ready)`);

    return { api, telemetryUrl, store, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
