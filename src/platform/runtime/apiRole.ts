import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub } from "@graphql-yoga/subscription";
import type { Redis } from "ioredis";
import type { Config } from "../../config";
import type { CommandBus } from "../bus/commandBus";
import { devAuthenticator, jwtAuthenticator, Scope } from "../graphql/auth";
import type { RequestContext } from "../graphql/context";
import { buildGraphQLSchema, type ResolverClass } from "../graphql/schema";
import { type RunningServer, startGraphQLServer } from "../graphql/server";
import { inCommitOrder } from "../graphql/inCommitOrder";
import { mountStaticPages } from "../graphql/staticPages";
import { CheckpointWaiter } from "../projection/checkpointWaiter";
import type { ReadModelKeys } from "../projection/keys";
import { ReadModelStore } from "../projection/readModelStore";
import type { StaticPage } from "../service";

export interface ApiDeps {
  config: Config;
  bus: CommandBus;
  keys: ReadModelKeys;
  resolvers: readonly ResolverClass[];
  /** Opens a Redis connection that the app closes on shutdown. */
  redis: (options?: object) => Redis;
  log: (line: string) => void;
  graphiqlQuery: string;
  /** The services' static pages, served beside GraphiQL. */
  pages: readonly StaticPage[];
}

/** The api role: GraphQL over HTTP and WebSocket; reads come from Redis only. */
export async function startApi(deps: ApiDeps): Promise<RunningServer> {
  const { config, keys, log } = deps;
  // Queries must fail fast when Redis is down rather than queue forever, and when it is frozen rather than hang.
  const reader = deps.redis({ maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: config.REDIS_READ_TIMEOUT_MS });
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
  const shared: Omit<RequestContext, "principal" | "actor"> = {
    commands: deps.bus,
    readModels,
    consistency,
    readWaitMaxMs: config.READ_WAIT_MAX_MS,
    subscribe: (topic) => inCommitOrder(pubSub.subscribe(keys.topic(topic))),
  };
  return startGraphQLServer<RequestContext>({
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
    routes: (app) => mountStaticPages(app, deps.pages),
    log,
  });
}
