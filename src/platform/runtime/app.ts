import type { Redis } from "ioredis";
import type { Config } from "../../config";
import { CommandWorker } from "../bus/commandWorker";
import { createRedis } from "../bus/connections";
import { QueueCommandBus } from "../bus/queueCommandBus";
import { startReactor } from "../bus/reactorRunner";
import { errorMessage } from "../errors";
import { EventStore } from "../eventstore/eventStore";
import { migrate } from "../eventstore/migrations";
import { createPool } from "../eventstore/pool";
import type { RunningServer } from "../graphql/server";
import { ReadModelKeys } from "../projection/keys";
import { Projector } from "../projection/projector";
import { ProjectionResolvers } from "../projection/resolvers";
import type { DocumentProjection } from "../projection/types";
import { ProjectorWakeups } from "../projection/wakeups";
import { sagaProjection } from "../saga/sagaProjection";
import { SagaResolvers } from "../saga/resolvers";
import { SagaRunner } from "../saga/sagaRunner";
import { createSagaExecutor, SAGA_SERVICE } from "../saga/sagaService";
import type { ServiceDefinition } from "../service";
import { startApi } from "./apiRole";

/** Roles every deployment has; each registered service adds a role of its own name. */
export const PLATFORM_ROLES = ["api", "projector", "saga", "all"] as const;

export interface AppOptions {
  config: Config & { DATABASE_URL: string; REDIS_URL: string };
  services: readonly ServiceDefinition[];
  roles: readonly string[];
  log(line: string): void;
  graphiqlQuery?: string;
}

export interface RunningApp {
  api: RunningServer | null;
  store: EventStore;
  stop(): Promise<void>;
}

/** Every resolver the API serves: the services' and, when any service has sagas, the saga operations. */
export function allResolvers(services: readonly ServiceDefinition[]) {
  const hasSagas = services.some((s) => s.sagas?.length);
  return [...services.flatMap((s) => s.resolvers), ...(hasSagas ? [SagaResolvers] : []), ProjectionResolvers];
}

/** Every read model the projector runs: the services' and, when any service has sagas, the saga read model. */
export function allProjections(services: readonly ServiceDefinition[]): DocumentProjection<unknown>[] {
  const hasSagas = services.some((s) => s.sagas?.length);
  return [...services.flatMap((s) => s.projections), ...(hasSagas ? [sagaProjection] : [])];
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
      await run().catch((e: unknown) => log(`shutdown of ${name}: ${errorMessage(e)}`));
    }
  };

  try {
    const pool = createPool(config.DATABASE_URL, { max: config.PG_POOL_SIZE }, (e) => log(`postgres: ${e.message}`));
    onStop("postgres pool", () => pool.end());
    const applied = await migrate(pool);
    if (applied.length) log(`migrations applied: ${applied.join(", ")}`);
    const store = new EventStore(pool);
    const keys = new ReadModelKeys(config.EVENTLINE_PREFIX);
    const sagas = services.flatMap((s) => s.sagas ?? []);
    const projections = allProjections(services);
    const redis = (opts: object = {}): Redis => {
      const connection = createRedis(config.REDIS_URL, opts);
      connection.on("error", () => undefined); // reconnects by itself; callers see UNAVAILABLE meanwhile
      onStop("redis connection", () => connection.quit().catch(() => connection.disconnect()));
      return connection;
    };
    const shared = redis();
    const bus = new QueueCommandBus(shared, config.REDIS_URL, keys.prefix, { timeoutMs: config.COMMAND_TIMEOUT_MS, attempts: 5 });
    onStop("command bus", () => bus.close());
    const wakeups = new ProjectorWakeups(shared, keys.prefix, projections.map((p) => p.name), (e) =>
      log(`wake-up not sent (catch-up will cover it): ${errorMessage(e)}`),
    );
    onStop("wake-ups", () => wakeups.close());
    const handlerOptions = { maxAttempts: config.COMMAND_MAX_ATTEMPTS, onAppended: () => wakeups.wake() };

    if (wanted.has("projector")) {
      const projector = new Projector({ store, redisUrl: config.REDIS_URL, keys, projections, log }, {
        batchSize: config.PROJECTOR_BATCH_SIZE,
        catchUpEveryMs: config.PROJECTOR_CATCH_UP_MS,
        maxEventAttempts: config.PROJECTOR_MAX_EVENT_ATTEMPTS,
      });
      await projector.start();
      onStop("projector", () => projector.stop());
      log(`projector: ${projections.map((p) => p.name).join(", ")}`);
    }

    for (const service of services.filter((s) => wanted.has(s.name))) {
      const execute = service.createExecutor({ store, handlerOptions });
      const worker = new CommandWorker(service.name, execute, redis(), keys.prefix, log);
      await worker.waitUntilReady();
      onStop(`${service.name} commands`, () => worker.close());
      for (const reactor of service.reactors ?? []) {
        const subscription = startReactor(service.name, reactor, execute, pool, store, log);
        onStop(`${service.name} reactor ${reactor.name}`, () => subscription.stop());
      }
      log(`${service.name}: taking commands${service.reactors?.length ? ", reacting to events" : ""}`);
    }

    if (wanted.has("saga") && sagas.length) {
      const runner = new SagaRunner(
        { db: pool, store, bus, connection: redis(), prefix: keys.prefix, definitions: sagas, log },
        { ...(config.SAGA_DEADLINE_MS ? { deadlineMs: config.SAGA_DEADLINE_MS } : {}), stepTimeoutMs: config.SAGA_STEP_TIMEOUT_MS, attempts: config.SAGA_ATTEMPTS },
      );
      await runner.start();
      onStop("saga runner", () => runner.stop());
      const execute = createSagaExecutor(store, handlerOptions, (stream, saga) => runner.wake(stream, saga));
      const worker = new CommandWorker(SAGA_SERVICE, execute, redis(), keys.prefix, log);
      onStop("saga commands", () => worker.close());
      log(`saga: running ${sagas.map((s) => s.name).join(", ")}`);
    }

    let api: RunningServer | null = null;
    if (wanted.has("api")) {
      api = await startApi({
        config,
        bus,
        keys,
        resolvers: allResolvers(services),
        redis,
        log,
        graphiqlQuery: options.graphiqlQuery ?? "",
        projections: projections.map((p) => p.name),
      });
      onStop("api", () => api!.close());
      log(`api: GraphiQL at ${api.url}`);
    }

    return { api, store, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
