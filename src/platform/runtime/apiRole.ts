import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub } from "@graphql-yoga/subscription";
import type { Redis } from "ioredis";
import type { Config } from "../../config";
import type { CommandBus } from "../bus/commandBus";
import { UnavailableError } from "../errors";
import { devAuthenticator, jwtAuthenticator, Scope } from "../graphql/auth";
import type { RequestContext } from "../graphql/context";
import { buildGraphQLSchema, type ResolverClass } from "../graphql/schema";
import { type RunningServer, startGraphQLServer } from "../graphql/server";
import { CheckpointWaiter } from "../projection/checkpointWaiter";
import type { ReadModelKeys } from "../projection/keys";
import { ProjectorAdminClient } from "../projection/admin";
import { ReadModelStore } from "../projection/readModelStore";
import { readProjectionStatus } from "../projection/status";

export interface ApiDeps {
  config: Config;
  bus: CommandBus;
  keys: ReadModelKeys;
  resolvers: readonly ResolverClass[];
  /** Opens a Redis connection that the app closes on shutdown. */
  redis: (options?: object) => Redis;
  log: (line: string) => void;
  graphiqlQuery: string;
  /** Names of the projections the projector runs, for status and operator commands. */
  projections: readonly string[];
}

/** The api role: GraphQL over HTTP and WebSocket; reads come from Redis only. */
export async function startApi(deps: ApiDeps): Promise<RunningServer> {
  const { config, keys, log } = deps;
  // Queries must fail fast when Redis is down rather than queue forever.
  const reader = deps.redis({ maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const subscriber = deps.redis();
  const readModels = new ReadModelStore(reader, keys);
  const consistency = new CheckpointWaiter(subscriber, keys, readModels);
  const pubSub = createPubSub({ eventTarget: createRedisEventTarget({ publishClient: reader, subscribeClient: subscriber }) });
  const schema = await buildGraphQLSchema(deps.resolvers, pubSub);
  const authenticator = config.AUTH_MODE === "jwt" ? jwtAuthenticator(config.AUTH_JWT_SECRET!) : devAuthenticator;
  if (authenticator.mode === "dev") {
    log("WARNING: AUTH_MODE=dev, ACCESS CONTROL IS OFF: every request may command and query as 'dev'. Set AUTH_JWT_SECRET before exposing this API.");
  } else {
    log("api: access control on: HS256 bearer tokens with scopes command:<service>, query, admin");
  }
  const projectorAdmin = new ProjectorAdminClient(deps.redis(), deps.redis(), keys.prefix, config.COMMAND_TIMEOUT_MS);
  const shared: Omit<RequestContext, "principal" | "actor"> = {
    commands: deps.bus,
    readModels,
    consistency,
    readWaitMaxMs: config.READ_WAIT_MAX_MS,
    projections: {
      names: deps.projections,
      status: async (name) => {
        try {
          return await readProjectionStatus(reader, keys, name);
        } catch (error) {
          throw new UnavailableError("Redis", error);
        }
      },
      send: (request) => projectorAdmin.send(request),
    },
    subscribe: (topic) => pubSub.subscribe(keys.topic(topic)),
  };
  const server = await startGraphQLServer<RequestContext>({
    schema,
    host: config.HOST,
    port: config.PORT,
    authenticate: (authorization) => authenticator.authenticate(authorization),
    context: (principal) => ({ ...shared, principal, actor: principal.subject }),
    connectionScopes: [Scope.query],
    limits: {
      maxDepth: config.MAX_QUERY_DEPTH,
      maxAliases: config.MAX_ALIASES,
      maxCost: config.MAX_QUERY_COST,
      maxTokens: config.MAX_QUERY_TOKENS,
      maxDirectives: config.MAX_DIRECTIVES,
    },
    maxBodyBytes: config.MAX_BODY_BYTES,
    introspection: config.GRAPHQL_INTROSPECTION,
    graphiql: { title: "Eventline GraphiQL", defaultQuery: deps.graphiqlQuery },
    log,
  });
  return {
    ...server,
    close: async () => {
      await server.close();
      await projectorAdmin.close();
    },
  };
}
