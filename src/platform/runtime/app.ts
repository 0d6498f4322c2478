import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub } from "@graphql-yoga/subscription";
import type { Redis } from "ioredis";
import type { Config } from "../../config";
import { type CommandExecutor, LocalCommandBus } from "../bus/commandBus";
import { createRedis } from "../bus/connections";
import { errorMessage } from "../errors";
import { EventStore } from "../eventstore/eventStore";
import { migrate } from "../eventstore/migrations";
import { createPool } from "../eventstore/pool";
import type { RequestContext } from "../graphql/context";
import { buildGraphQLSchema } from "../graphql/schema";
import { type RunningServer, startGraphQLServer } from "../graphql/server";
import { CheckpointWaiter } from "../projection/checkpointWaiter";
import { ReadModelKeys } from "../projection/keys";
import { Projector } from "../projection/projector";
import { ReadModelStore } from "../projection/readModelStore";
import { ProjectorWakeups } from "../projection/wakeups";
import type { ServiceDefinition } from "../service";

export const ROLES = ["api", "projector", "all"] as const;
export type Role = (typeof ROLES)[number];

export interface AppOptions {
  config: Config & { DATABASE_URL: string; REDIS_URL: string };
  services: readonly ServiceDefinition[];
  roles: readonly Role[];
  log(line: string): void;
  graphiqlQuery?: string;
}

export interface RunningApp {
  api: RunningServer | null;
  projector: Projector | null;
  store: EventStore;
  stop(): Promise<void>;
}

/**
 * The composition root: connects to PostgreSQL and Redis, applies migrations
 * and starts the requested roles. Every role can run alone in its own process
 * or together with the others in one.
 */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const { config, services, log } = options;
  const roles = new Set<Role>(options.roles.includes("all") ? ["api", "projector"] : options.roles);
  const stops: Array<{ name: string; run: () => Promise<unknown> }> = [];
  const onStop = (name: string, run: () => Promise<unknown>) => stops.push({ name, run });
  const stop = async () => {
    for (const { name, run } of stops.splice(0).reverse()) {
      log(`stopping ${name}`);
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
    const projections = services.flatMap((s) => s.projections);
    const redis = (opts = {}) => {
      const connection = createRedis(config.REDIS_URL, opts);
      connection.on("error", () => undefined); // reconnects by itself; callers see UNAVAILABLE meanwhile
      onStop("redis connection", () => connection.quit().catch(() => connection.disconnect()));
      return connection;
    };

    let projector: Projector | null = null;
    if (roles.has("projector")) {
      projector = new Projector({ store, redisUrl: config.REDIS_URL, keys, projections, log });
      await projector.start();
      onStop("projector", () => projector!.stop());
      log(`projector: ${projections.map((p) => p.name).join(", ")}`);
    }

    let api: RunningServer | null = null;
    if (roles.has("api")) {
      const wakeups = new ProjectorWakeups(redis(), keys.prefix, projections.map((p) => p.name), (e) =>
        log(`wake-up not sent (catch-up will cover it): ${errorMessage(e)}`),
      );
      onStop("wake-ups", () => wakeups.close());
      const bus = new LocalCommandBus(executors(services, store, config, () => wakeups.wake()));
      api = await startApi(options, bus, keys, redis, redis());
      onStop("api", () => api!.close());
      log(`api: GraphiQL at ${api.url}`);
    }

    return { api, projector, store, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function executors(
  services: readonly ServiceDefinition[],
  store: EventStore,
  config: Config,
  onAppended: () => void,
): Map<string, CommandExecutor> {
  const handlerOptions = { maxAttempts: config.COMMAND_MAX_ATTEMPTS, onAppended };
  return new Map(services.map((s) => [s.name, s.createExecutor({ store, handlerOptions })]));
}

async function startApi(
  options: AppOptions,
  bus: LocalCommandBus,
  keys: ReadModelKeys,
  redis: (opts?: object) => Redis,
  subscriber: Redis,
): Promise<RunningServer> {
  const { config, services, log } = options;
  // Queries must fail fast when Redis is down rather than queue forever.
  const reader = redis({ maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const readModels = new ReadModelStore(reader, keys);
  const consistency = new CheckpointWaiter(subscriber, keys, readModels);
  const pubSub = createPubSub({ eventTarget: createRedisEventTarget({ publishClient: reader, subscribeClient: subscriber }) });
  const schema = await buildGraphQLSchema(services.flatMap((s) => s.resolvers), pubSub);
  const context: RequestContext = {
    actor: "anonymous",
    commands: bus,
    readModels,
    consistency,
    readWaitMaxMs: config.READ_WAIT_MAX_MS,
    subscribe: (topic) => pubSub.subscribe(keys.topic(topic)),
  };
  return startGraphQLServer<RequestContext>({
    schema,
    host: config.HOST,
    port: config.PORT,
    context: async () => context,
    graphiql: { title: "Eventline GraphiQL", defaultQuery: options.graphiqlQuery ?? "" },
    log,
  });
}
