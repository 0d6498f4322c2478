import { createPubSub } from "@graphql-yoga/subscription";
import type { Queue } from "bullmq";
import type { Config } from "../../config";
import type { CommandBus } from "../bus/commandBus";
import { UnavailableError } from "../core/errors";
import { devAuthenticator, jwtAuthenticator, Scope } from "../graphql/auth";
import { issueRequestContext, requestedPositions, type RequestContext } from "../graphql/context";
import { buildGraphQLSchema, type ResolverClass } from "../graphql/schema";
import { type RunningServer, startGraphQLServer } from "../graphql/server";
import { mountStaticPages } from "../graphql/staticPages";
import { type ConnectionOptions, untilReady, type RedisClient } from "../core/redis";
import { CheckpointWaiter } from "../projection/checkpointWaiter";
import type { ReadModelKeys } from "../projection/keys";
import { ProjectorAdminClient } from "../projection/admin";
import { ReadModelStore } from "../projection/readModelStore";
import { ActiveGenerations } from "../projection/activeGenerations";
import type { ProjectionSegments } from "../projection/projectionSegments";
import { ChangeFeeds } from "../subscriptions/feeds";
import type { StaticPage } from "../graphql/staticPages";
import { observeBus } from "../bus/busTelemetry";
import { countOperation, graphqlMetricsPlugin } from "../observability/graphqlMetrics";
import { healthRouter, type ReadinessCheck } from "../observability/health";
import type { Logger } from "../observability/logger";
import type { Metrics } from "../observability/metrics";
import { readProjectionStatus } from "../projection/status";
import type { RolePart } from "./rolePart";

export interface ApiDeps {
  config: Config;
  bus: CommandBus;
  keys: ReadModelKeys;
  resolvers: readonly ResolverClass[];
  /** Opens a Redis connection that the app closes on shutdown. */
  redis: (options?: ConnectionOptions) => RedisClient;
  log: Logger;
  graphiqlQuery: string;
  /** The services' static pages, served beside GraphiQL. */
  pages: readonly StaticPage[];
  /** Served beside GraphQL: /health, /ready, /metrics, and Bull Board for these queues under /admin/queues. */
  telemetry: { role: string; metrics: Metrics; checks: readonly ReadinessCheck[]; queues: readonly Queue[] };
  /** Names of the projections the projector runs, for status and operator commands. */
  projections: readonly string[];
  /** Where a projection in segments keeps each document and index entry. */
  segments: ProjectionSegments;
}

/** The api role: GraphQL over HTTP and WebSocket; reads come from Redis only. */
export async function startApi(deps: ApiDeps): Promise<RunningServer> {
  const { config, keys, log } = deps;
  // Queries must fail fast when Redis is down rather than queue forever, and when it is frozen rather than hang.
  const reader = deps.redis({ maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: config.REDIS_READ_TIMEOUT_MS });
  const subscriber = deps.redis({ subscriber: true });
  // Without an offline queue, a query sent before the handshake ends fails: say "ready" only once it has.
  if (!(await untilReady(reader, READER_CONNECT_WAIT_MS))) {
    log.warn(`api: RedisClient not reachable after ${READER_CONNECT_WAIT_MS} ms; queries answer UNAVAILABLE until it is`);
  }
  // The active-generation pointer is cached in process, dropped when a rebuild's switch is published (decision 0018).
  const generations = new ActiveGenerations(reader, keys);
  await generations.listen(subscriber);
  const readModels = new ReadModelStore(reader, keys, generations, deps.segments);
  const consistency = new CheckpointWaiter(subscriber, keys, readModels);
  const feeds = new ChangeFeeds({ subscriber, reader, keys, log, segments: { of: (projection) => deps.segments.names(projection), checkpointChannel: (segment) => keys.checkpointChannel(segment), checkpoint: (segment) => readModels.checkpoint(segment) } });
  // Every subscription opens its own feed (context.subscribe); type-graphql only wants a PubSub to exist.
  const schema = await buildGraphQLSchema(deps.resolvers, createPubSub());
  const authenticator =
    config.AUTH_MODE === "jwt"
      ? jwtAuthenticator(config.AUTH_JWT_SECRET!, { issuer: config.AUTH_JWT_ISSUER, audience: config.AUTH_JWT_AUDIENCE })
      : devAuthenticator;
  if (authenticator.mode === "dev") {
    log.warn("WARNING: AUTH_MODE=dev, ACCESS CONTROL IS OFF: every request may command and query as 'dev'. Set AUTH_JWT_SECRET before exposing this API.");
  } else {
    const claims = [config.AUTH_JWT_ISSUER && `issuer '${config.AUTH_JWT_ISSUER}'`, config.AUTH_JWT_AUDIENCE && `audience '${config.AUTH_JWT_AUDIENCE}'`].filter(Boolean);
    log.info(`api: access control on: HS256 bearer tokens with scopes command:<service>, query, admin${claims.length ? `; ${claims.join(", ")} required` : ""}`);
  }
  const projectorAdmin = new ProjectorAdminClient(deps.redis(), deps.redis(), keys.prefix, config.COMMAND_TIMEOUT_MS);
  const shared: Omit<RequestContext, "principal" | "actor" | "requestedPositions"> = {
    commands: observeBus(deps.bus, log),
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
    subscribe: (request) => feeds.open(request),
  };
  const { metrics } = deps.telemetry;
  // Bull Board and its views take over a second to load: only the api pays for them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ADMIN_QUEUES_PATH, adminBoard, requireAdmin } = require("../graphql/adminBoard") as typeof import("../graphql/adminBoard");
  const authenticate = (authorization: unknown) => authenticator.authenticate(authorization);
  const server = await startGraphQLServer<RequestContext>({
    schema,
    host: config.HOST,
    port: config.PORT,
    authenticate,
    context: (principal, request) => issueRequestContext({ ...shared, principal, actor: principal.subject, requestedPositions: requestedPositions(request) }),
    connectionScopes: [Scope.query],
    webSocket: {
      maxPerSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxPerToken: config.WS_MAX_SUBSCRIPTIONS_PER_TOKEN,
      maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
    },
    limits: {
      maxDepth: config.MAX_QUERY_DEPTH,
      maxAliases: config.MAX_ALIASES,
      maxCost: config.MAX_QUERY_COST,
      maxTokens: config.MAX_QUERY_TOKENS,
      maxDirectives: config.MAX_DIRECTIVES,
    },
    maxBodyBytes: config.MAX_BODY_BYTES,
    introspection: config.GRAPHQL_INTROSPECTION,
    graphiql: { title: "Eventline GraphiQL", defaultQuery: deps.graphiqlQuery, enabled: config.GRAPHIQL_ENABLED },
    log,
    plugins: [graphqlMetricsPlugin(metrics)],
    onWebSocketOperation: (operation, codes) => countOperation(metrics, operation, codes),
    routes: (app) => {
      // With a listener of its own (METRICS_PORT), /metrics leaves the public port; /health and /ready stay for probes.
      app.use(healthRouter(deps.telemetry, { metrics: config.METRICS_PORT === undefined, metricsToken: config.METRICS_TOKEN }));
      app.use(ADMIN_QUEUES_PATH, requireAdmin(authenticate), adminBoard(deps.telemetry.queues));
      mountStaticPages(app, deps.pages);
    },
  });
  return {
    ...server,
    close: async () => {
      await server.close();
      await projectorAdmin.close();
    },
  };
}

const READER_CONNECT_WAIT_MS = 10_000;


/** What the api serves, gathered from every registration. */
export interface ApiServes {
  /** Every queue of the system: the api sends to them all, reports them and shows them on its board. */
  queues: readonly string[];
  /** Every read model: the api reads them all and reports their lag. */
  projections: readonly string[];
  segments: ProjectionSegments;
  resolvers: readonly ResolverClass[];
  pages: readonly StaticPage[];
}

/** The api as a registered role: GraphQL, GraphiQL and the services' pages, on PORT. */
export function apiRole(serves: ApiServes): RolePart {
  return {
    role: "api",
    queues: serves.queues,
    projections: serves.projections,
    subscriptions: [],
    async start(ctx) {
      const { config, log, telemetry } = ctx;
      const api = await startApi({
        config,
        bus: ctx.bus,
        keys: ctx.keys,
        resolvers: serves.resolvers,
        redis: ctx.redis,
        log: log.child({ component: "api" }),
        graphiqlQuery: ctx.graphiqlQuery,
        telemetry: { role: ctx.role, metrics: ctx.metrics, checks: telemetry.checks, queues: telemetry.queues },
        pages: serves.pages,
        projections: serves.projections,
        segments: serves.segments,
      });
      ctx.onStop("api", () => api.close());
      // The URL is followed by a space: tests and scripts read it with /GraphiQL at (\S+)/ (or /GraphQL at/ when GraphiQL is off).
      if (config.GRAPHIQL_ENABLED) log.info({ url: api.url }, `api: GraphiQL at ${api.url} (GraphQL over HTTP and WebSocket)`);
      else log.info({ url: api.url }, `api: GraphQL at ${api.url} (HTTP and WebSocket; GraphiQL is off, GRAPHIQL_ENABLED=true serves it)`);
      for (const page of serves.pages) log.info(`api: ${page.title} at ${new URL(page.path, api.url).href}`);
      // With access control on, metrics anyone can read would be the one open door.
      if (config.METRICS_PORT === undefined && !config.METRICS_TOKEN && config.AUTH_MODE === "jwt") {
        log.warn("api: /metrics is open to anyone who can reach the api's port: set METRICS_PORT (and METRICS_HOST) to serve it apart, or METRICS_TOKEN");
      }
      return api;
    },
  };
}
